// A stand-in for Razorpay's Orders API on 127.0.0.1, so the app can run with Razorpay keys
// (real Checkout page, real `checkout.js` script tag) on a machine without Internet.
// It only creates orders; the browser never reaches Checkout itself (it is blocked).

import { createServer } from 'node:http';

export async function startFakeRazorpay() {
  const orders = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      const send = (status, json) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(json));
      };
      if (request.method === 'POST' && request.url === '/v1/orders') {
        const wanted = JSON.parse(body || '{}');
        const order = {
          id: `order_e2e${String(orders.length + 1).padStart(11, '0')}`,
          entity: 'order',
          amount: wanted.amount,
          amount_paid: 0,
          amount_due: wanted.amount,
          currency: wanted.currency || 'INR',
          receipt: wanted.receipt,
          status: 'created',
          attempts: 0,
          notes: wanted.notes || {},
          created_at: Math.floor(Date.now() / 1000),
        };
        orders.push(order);
        return send(200, order);
      }
      if (request.method === 'GET' && /^\/v1\/orders\/[^/]+\/payments$/.test(request.url)) {
        return send(200, { entity: 'collection', count: 0, items: [] });
      }
      return send(404, { error: { code: 'BAD_REQUEST_ERROR', description: `no fake for ${request.method} ${request.url}` } });
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    apiBase: `http://127.0.0.1:${port}/v1`,
    orders,
    stop: () => new Promise((ok) => server.close(ok)),
  };
}

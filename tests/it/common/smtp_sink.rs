//! A small SMTP server on loopback that accepts every message and keeps it, so tests can
//! send real SMTP conversations (greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)
//! and look at the envelope and the raw message. It can start "down" (its port reserved
//! but nobody listening, so connections are refused) and come up later on the same port.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// One message as the sink received it.
#[derive(Debug, Clone, Default)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub recipients: Vec<String>,
    /// The message as sent after `DATA`, dot-stuffing undone, CRLF line ends.
    pub data: String,
}

impl ReceivedMail {
    /// The header block of the message (before the first empty line).
    pub fn headers(&self) -> &str {
        self.data.split("\r\n\r\n").next().unwrap_or("")
    }
}

pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl SmtpSink {
    /// A sink whose port is reserved but which does not listen yet.
    pub async fn down() -> Self {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("reserve a port");
        let port = probe.local_addr().expect("address").port();
        drop(probe);
        Self {
            port,
            received: Arc::default(),
            server: Mutex::new(None),
        }
    }

    /// A sink that is listening.
    pub async fn start() -> Self {
        let sink = Self::down().await;
        sink.up().await;
        sink
    }

    /// Starts listening on the sink's port.
    pub async fn up(&self) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(([127, 0, 0, 1], self.port).into())
            .expect("bind the SMTP sink's port");
        let listener = socket.listen(64).expect("listen");
        let received = self.received.clone();
        let server = tokio::spawn(async move {
            let mut sessions = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                sessions.spawn(session(stream, received.clone()));
            }
        });
        *self.server.lock().unwrap() = Some(server);
    }

    /// Stops listening (open conversations are dropped with the server task's sessions).
    pub fn stop(&self) {
        if let Some(server) = self.server.lock().unwrap().take() {
            server.abort();
        }
    }

    /// The `SMTP_URL` that reaches this sink (plain SMTP, no TLS, no authentication).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` messages arrived (or five seconds passed).
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        for _ in 0..100 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The angle-bracketed address of `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn path_of(argument: &str) -> String {
    let start = argument.find('<').map(|i| i + 1).unwrap_or(0);
    let end = argument[start..]
        .find('>')
        .map(|i| i + start)
        .unwrap_or(argument.len());
    argument[start..end].trim().to_owned()
}

async fn session(stream: TcpStream, received: Arc<Mutex<Vec<ReceivedMail>>>) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut current = ReceivedMail::default();
    if writer
        .write_all(b"220 sink.test ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                current = ReceivedMail {
                    from: path_of(command),
                    ..Default::default()
                };
                b"250 OK\r\n"
            }
            "RCPT" => {
                current.recipients.push(path_of(command));
                b"250 OK\r\n"
            }
            "DATA" => {
                if writer
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let content = line.trim_end_matches(['\r', '\n']);
                    if content == "." {
                        break;
                    }
                    data.push_str(content.strip_prefix('.').unwrap_or(content));
                    data.push_str("\r\n");
                }
                current.data = data;
                received.lock().unwrap().push(std::mem::take(&mut current));
                b"250 OK: queued\r\n"
            }
            "RSET" => {
                current = ReceivedMail::default();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                let _ = writer.write_all(b"221 Bye\r\n").await;
                return;
            }
            _ => b"502 Command not implemented\r\n",
        };
        if writer.write_all(reply).await.is_err() {
            return;
        }
    }
}

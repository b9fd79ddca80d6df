-- Sellable seats per screen (every seat that is not blocked), counted for each showtime
-- listing: a partial index answers the count without reading the seats' rows.
CREATE INDEX seats_sellable ON seats (screen_id) WHERE kind <> 'blocked';

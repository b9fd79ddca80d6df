-- Uploads are decoded and encoded again before they are stored (only pixels are kept), and
-- each poster gets a smaller rendition for list pages: 342 px wide, JPEG. Posters stored
-- before this migration have no card rendition (NULL in all three columns); the full poster
-- is served in its place.
ALTER TABLE posters ADD COLUMN card_content_type TEXT;
ALTER TABLE posters ADD COLUMN card_data BYTEA;
-- SHA-256 of card_data: the card's ETag.
ALTER TABLE posters ADD COLUMN card_sha256 TEXT;

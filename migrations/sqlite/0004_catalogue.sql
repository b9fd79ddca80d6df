-- The catalogue: where (cities, theatres, screens and their seats) and what (movies).
CREATE TABLE cities (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,
    slug  TEXT NOT NULL UNIQUE
);

CREATE TABLE theatres (
    id        INTEGER PRIMARY KEY,
    city_id   INTEGER NOT NULL REFERENCES cities (id),
    name      TEXT NOT NULL,
    address   TEXT NOT NULL DEFAULT '',
    timezone  TEXT NOT NULL DEFAULT 'Asia/Kolkata'
);
CREATE INDEX theatres_city_id ON theatres (city_id);

CREATE TABLE screens (
    id           INTEGER PRIMARY KEY,
    theatre_id   INTEGER NOT NULL REFERENCES theatres (id),
    name         TEXT NOT NULL,
    layout_text  TEXT NOT NULL DEFAULT '',
    updated_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX screens_theatre_id ON screens (theatre_id);

-- Seat categories of one screen (e.g. C = Classic, P = Prime, R = Recliner).
CREATE TABLE seat_categories (
    id         INTEGER PRIMARY KEY,
    screen_id  INTEGER NOT NULL REFERENCES screens (id) ON DELETE CASCADE,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    rank       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (screen_id, code)
);

-- kind: standard, wheelchair, companion, blocked.
CREATE TABLE seats (
    id           INTEGER PRIMARY KEY,
    screen_id    INTEGER NOT NULL REFERENCES screens (id) ON DELETE CASCADE,
    category_id  INTEGER NOT NULL REFERENCES seat_categories (id),
    label        TEXT NOT NULL,
    row_label    TEXT NOT NULL,
    row_index    INTEGER NOT NULL,
    col_index    INTEGER NOT NULL,
    number       INTEGER NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'standard',
    UNIQUE (screen_id, label)
);
CREATE INDEX seats_category_id ON seats (category_id);

CREATE TABLE movies (
    id               INTEGER PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    title            TEXT NOT NULL,
    search_title     TEXT NOT NULL,
    synopsis         TEXT NOT NULL DEFAULT '',
    runtime_minutes  INTEGER NOT NULL,
    certificate      TEXT NOT NULL,
    release_date     TEXT NOT NULL,
    trailer_url      TEXT,
    is_active        INTEGER NOT NULL DEFAULT 1,
    poster_id        INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX movies_active_release ON movies (is_active, release_date);
CREATE INDEX movies_search_title ON movies (search_title);

CREATE TABLE movie_genres (
    movie_id  INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    genre     TEXT NOT NULL,
    PRIMARY KEY (movie_id, genre)
);
CREATE INDEX movie_genres_genre ON movie_genres (genre);

CREATE TABLE movie_languages (
    movie_id  INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    language  TEXT NOT NULL,
    PRIMARY KEY (movie_id, language)
);
CREATE INDEX movie_languages_language ON movie_languages (language);

-- Poster images live in the database: dynos have ephemeral disks.
CREATE TABLE posters (
    id            INTEGER PRIMARY KEY,
    movie_id      INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    name          TEXT NOT NULL UNIQUE,
    content_type  TEXT NOT NULL,
    data          BLOB NOT NULL,
    sha256        TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX posters_movie_id ON posters (movie_id);

CREATE TABLE showtimes (
    id            INTEGER PRIMARY KEY,
    movie_id      INTEGER NOT NULL REFERENCES movies (id),
    screen_id     INTEGER NOT NULL REFERENCES screens (id),
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    language      TEXT NOT NULL,
    format        TEXT NOT NULL DEFAULT '2D',
    is_cancelled  INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE INDEX showtimes_movie_starts ON showtimes (movie_id, starts_at);
CREATE INDEX showtimes_screen_starts ON showtimes (screen_id, starts_at);
CREATE INDEX showtimes_starts_at ON showtimes (starts_at);

CREATE TABLE showtime_prices (
    showtime_id  INTEGER NOT NULL REFERENCES showtimes (id) ON DELETE CASCADE,
    category_id  INTEGER NOT NULL REFERENCES seat_categories (id),
    price_paise  INTEGER NOT NULL,
    PRIMARY KEY (showtime_id, category_id)
);
CREATE INDEX showtime_prices_category_id ON showtime_prices (category_id);

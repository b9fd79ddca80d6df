//! The demo catalogue (`moviebooking seed-demo`, and `serve` in development on an empty
//! database): four cities, six theatres with screens of 100 to 300 seats, twelve movies
//! with posters, and a week of showtimes from "now".
//!
//! Everything is written in one transaction, so a seed either happens completely or not at
//! all, and it happens once: when the demo movies are already there it does nothing.
//! Posters are small PNGs drawn here (a gradient, a sun over hills, the title in a pixel
//! font), so the demo needs no image files and posters go through the same decoding,
//! encoding and storage as real uploads.

use time::{Duration, OffsetDateTime, Time};
use time_tz::PrimitiveDateTimeExt;

use crate::db::Db;
use crate::domain::catalogue::{
    self, CatalogueError, Certificate, DEFAULT_TIMEZONE, NewMovie, create_city_in, create_movie_in,
    create_theatre_in, set_poster_in,
};
use crate::domain::screens::{CategoryDef, CreatedScreen, ScreenError, create_screen_in};
use crate::domain::showtimes::{Format, NewPrice, NewShowtime, ShowtimeError, create_showtime_in};

/// What a seed run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// False when the demo catalogue was already there (nothing was written).
    pub created: bool,
    pub cities: usize,
    pub theatres: usize,
    pub screens: usize,
    pub seats: usize,
    pub movies: usize,
    pub showtimes: usize,
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.created {
            write!(
                f,
                "demo catalogue created: {} cities, {} theatres, {} screens, {} seats, {} movies, {} showtimes",
                self.cities, self.theatres, self.screens, self.seats, self.movies, self.showtimes
            )
        } else {
            f.write_str("the demo catalogue is already there; nothing changed")
        }
    }
}

/// Why seeding failed (a bug in the demo data or a database problem).
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("catalogue: {0}")]
    Catalogue(#[from] CatalogueError),
    #[error("screen: {0}")]
    Screen(#[from] ScreenError),
    #[error("showtime: {0}")]
    Showtime(#[from] ShowtimeError),
    #[error("poster: {0}")]
    Poster(String),
}

/// Seat prices in paise by category code, before the format's surcharge.
const PRICES: [(char, i64); 3] = [('C', 15_000), ('P', 25_000), ('R', 45_000)];

/// Local start times of the daily slots. They are 3.5 hours apart, longer than any
/// now-showing film plus the cleaning buffer, so a screen's showtimes never overlap.
const SLOTS: [(u8, u8); 5] = [(9, 0), (12, 30), (16, 0), (19, 30), (23, 0)];

/// How many days of showtimes, starting today.
const DAYS: i64 = 7;

struct DemoMovie {
    title: &'static str,
    synopsis: &'static str,
    runtime: i64,
    certificate: Certificate,
    genres: &'static [&'static str],
    languages: &'static [&'static str],
    formats: &'static [Format],
    /// Days from today: negative = released, positive = coming soon.
    release_in_days: i64,
    colours: (f32, f32),
    trailer: bool,
}

const MOVIES: &[DemoMovie] = &[
    DemoMovie {
        title: "Monsoon Express",
        synopsis: "A railway guard and a runaway heiress race a flooded night train from Mumbai to Goa while a gang of smugglers closes in.",
        runtime: 148,
        certificate: Certificate::UA,
        genres: &["Action", "Thriller"],
        languages: &["Hindi", "English"],
        formats: &[Format::TwoD, Format::Imax],
        release_in_days: -5,
        colours: (200.0, 260.0),
        trailer: true,
    },
    DemoMovie {
        title: "The Last Lighthouse",
        synopsis: "On a storm-bound island, the last keeper of a lighthouse finds letters that rewrite the history of her family.",
        runtime: 126,
        certificate: Certificate::UA,
        genres: &["Drama", "Mystery"],
        languages: &["English"],
        formats: &[Format::TwoD],
        release_in_days: -12,
        colours: (30.0, 230.0),
        trailer: true,
    },
    DemoMovie {
        title: "Chai & Chaos",
        synopsis: "Two rival tea stalls on the same Pune street go to war, until their owners' children fall for each other.",
        runtime: 132,
        certificate: Certificate::U,
        genres: &["Comedy", "Romance"],
        languages: &["Hindi", "Marathi"],
        formats: &[Format::TwoD],
        release_in_days: -19,
        colours: (20.0, 340.0),
        trailer: false,
    },
    DemoMovie {
        title: "Kaveri Nights",
        synopsis: "A musician returns to her village on the Kaveri for one last festival and meets the boy she left behind.",
        runtime: 141,
        certificate: Certificate::UA,
        genres: &["Romance", "Drama"],
        languages: &["Kannada", "Tamil"],
        formats: &[Format::TwoD],
        release_in_days: -8,
        colours: (280.0, 200.0),
        trailer: true,
    },
    DemoMovie {
        title: "Steel Horizon",
        synopsis: "The crew of India's first deep-space freighter must decide whom to save when their reactor starts to fail.",
        runtime: 162,
        certificate: Certificate::UA,
        genres: &["Sci-Fi", "Action"],
        languages: &["English", "Hindi"],
        formats: &[Format::Imax, Format::ThreeD, Format::TwoD],
        release_in_days: -2,
        colours: (190.0, 220.0),
        trailer: true,
    },
    DemoMovie {
        title: "Ghosts of Goa",
        synopsis: "Three friends buy a crumbling Portuguese villa for a song. The previous owners never left.",
        runtime: 118,
        certificate: Certificate::A,
        genres: &["Horror", "Comedy"],
        languages: &["Hindi", "English"],
        formats: &[Format::TwoD, Format::FourDx],
        release_in_days: -26,
        colours: (120.0, 160.0),
        trailer: true,
    },
    DemoMovie {
        title: "Little Tiger",
        synopsis: "An orphaned tiger cub and a stubborn village girl cross the Sundarbans to find his mother.",
        runtime: 98,
        certificate: Certificate::U,
        genres: &["Animation", "Family"],
        languages: &["English", "Hindi", "Tamil"],
        formats: &[Format::ThreeD, Format::TwoD],
        release_in_days: -15,
        colours: (40.0, 10.0),
        trailer: true,
    },
    DemoMovie {
        title: "Deccan Gold",
        synopsis: "A Hyderabad police officer goes undercover in the gold-smuggling racket that killed her partner.",
        runtime: 155,
        certificate: Certificate::A,
        genres: &["Crime", "Thriller"],
        languages: &["Telugu", "Hindi"],
        formats: &[Format::TwoD],
        release_in_days: -33,
        colours: (45.0, 0.0),
        trailer: false,
    },
    DemoMovie {
        title: "Paper Boats",
        synopsis: "A retired schoolteacher teaches a class of street children for one monsoon, and learns more than he teaches.",
        runtime: 112,
        certificate: Certificate::U,
        genres: &["Drama", "Family"],
        languages: &["Marathi", "Hindi"],
        formats: &[Format::TwoD],
        release_in_days: -40,
        colours: (170.0, 210.0),
        trailer: false,
    },
    DemoMovie {
        title: "Orbit 9",
        synopsis: "Nine strangers wake up on a space station with no memory of how they got there, and one of them is lying.",
        runtime: 171,
        certificate: Certificate::UA,
        genres: &["Sci-Fi", "Adventure"],
        languages: &["English"],
        formats: &[Format::Imax],
        release_in_days: 9,
        colours: (250.0, 300.0),
        trailer: true,
    },
    DemoMovie {
        title: "Raag",
        synopsis: "A tabla prodigy from Varanasi and a Bengaluru DJ are forced to score a film together in thirty days.",
        runtime: 136,
        certificate: Certificate::U,
        genres: &["Musical", "Drama"],
        languages: &["Hindi"],
        formats: &[Format::TwoD],
        release_in_days: 16,
        colours: (320.0, 30.0),
        trailer: true,
    },
    DemoMovie {
        title: "Midnight Cricket Club",
        synopsis: "A night-shift security guard builds a cricket team out of the city's insomniacs to play for a stadium's future.",
        runtime: 129,
        certificate: Certificate::UA,
        genres: &["Comedy", "Sports"],
        languages: &["Hindi", "English"],
        formats: &[Format::TwoD],
        release_in_days: 23,
        colours: (100.0, 240.0),
        trailer: false,
    },
];

/// A screen: category sections from the front (row A) backwards, each `(code, rows, blocks)`
/// where blocks are seat counts separated by aisles.
struct DemoScreen {
    name: &'static str,
    sections: &'static [(char, usize, &'static [usize])],
}

struct DemoTheatre {
    city: &'static str,
    name: &'static str,
    address: &'static str,
    screens: &'static [DemoScreen],
}

const CITIES: &[(&str, &str)] = &[
    ("Mumbai", "mumbai"),
    ("Bengaluru", "bengaluru"),
    ("Delhi", "delhi"),
    ("Pune", "pune"),
];

const THEATRES: &[DemoTheatre] = &[
    DemoTheatre {
        city: "mumbai",
        name: "Regal Talkies, Colaba",
        address: "Shahid Bhagat Singh Road, Colaba, Mumbai 400001",
        screens: &[
            DemoScreen {
                name: "Screen 1",
                sections: &[
                    ('C', 8, &[4, 12, 4]),
                    ('P', 5, &[4, 12, 4]),
                    ('R', 4, &[2, 6, 2]),
                ],
            },
            DemoScreen {
                name: "Screen 2",
                sections: &[('C', 7, &[3, 9, 3]), ('P', 3, &[3, 9, 3])],
            },
        ],
    },
    DemoTheatre {
        city: "mumbai",
        name: "Juhu Cineplex",
        address: "Juhu Tara Road, Juhu, Mumbai 400049",
        screens: &[
            DemoScreen {
                name: "Audi 1",
                sections: &[
                    ('C', 6, &[4, 10, 4]),
                    ('P', 4, &[4, 10, 4]),
                    ('R', 2, &[2, 6, 2]),
                ],
            },
            DemoScreen {
                name: "Audi 2",
                sections: &[('C', 6, &[3, 6, 3]), ('P', 4, &[3, 6, 3])],
            },
            DemoScreen {
                name: "Audi 3",
                sections: &[('C', 6, &[2, 6, 2]), ('P', 4, &[2, 6, 2])],
            },
        ],
    },
    DemoTheatre {
        city: "bengaluru",
        name: "Lakeside Cinemas, Indiranagar",
        address: "100 Feet Road, Indiranagar, Bengaluru 560038",
        screens: &[
            DemoScreen {
                name: "Screen 1",
                sections: &[
                    ('C', 8, &[4, 10, 4]),
                    ('P', 4, &[4, 10, 4]),
                    ('R', 3, &[2, 4, 2]),
                ],
            },
            DemoScreen {
                name: "Screen 2",
                sections: &[('C', 6, &[3, 8, 3]), ('P', 4, &[3, 8, 3])],
            },
        ],
    },
    DemoTheatre {
        city: "bengaluru",
        name: "Orion Screens, Whitefield",
        address: "ITPL Main Road, Whitefield, Bengaluru 560066",
        screens: &[
            DemoScreen {
                name: "Audi 1",
                sections: &[('C', 6, &[4, 7, 4]), ('P', 6, &[4, 7, 4])],
            },
            DemoScreen {
                name: "Audi 2",
                sections: &[('C', 6, &[2, 6, 2]), ('P', 4, &[2, 6, 2])],
            },
        ],
    },
    DemoTheatre {
        city: "delhi",
        name: "Plaza Picture House, Connaught Place",
        address: "H Block, Connaught Place, New Delhi 110001",
        screens: &[
            DemoScreen {
                name: "Screen 1",
                sections: &[
                    ('C', 7, &[4, 10, 4]),
                    ('P', 4, &[4, 10, 4]),
                    ('R', 2, &[2, 7, 2]),
                ],
            },
            DemoScreen {
                name: "Screen 2",
                sections: &[('C', 6, &[3, 6, 3]), ('P', 4, &[3, 6, 3])],
            },
        ],
    },
    DemoTheatre {
        city: "pune",
        name: "Deccan Talkies, FC Road",
        address: "Fergusson College Road, Shivajinagar, Pune 411004",
        screens: &[
            DemoScreen {
                name: "Screen 1",
                sections: &[('C', 6, &[4, 8, 4]), ('P', 4, &[4, 8, 4])],
            },
            DemoScreen {
                name: "Screen 2",
                sections: &[('C', 6, &[2, 6, 2]), ('P', 4, &[2, 6, 2])],
            },
        ],
    },
];

fn category_defs(sections: &[(char, usize, &[usize])]) -> Vec<CategoryDef> {
    let mut defs: Vec<CategoryDef> = Vec::new();
    for (code, _, _) in sections {
        if defs.iter().any(|d| d.code == *code) {
            continue;
        }
        let (name, rank) = match code {
            'C' => ("Classic", 0),
            'P' => ("Prime", 1),
            _ => ("Recliner", 2),
        };
        defs.push(CategoryDef::new(*code, name, rank));
    }
    defs
}

/// The layout text of a demo screen: row letters from A, aisles between blocks, wheelchair
/// spaces with companion seats at both ends of the last row of the front section, and the
/// very first seat blocked (it sits in front of the projector's emergency exit).
fn layout_text(sections: &[(char, usize, &[usize])]) -> String {
    let mut lines = Vec::new();
    let mut row = 0u8;
    for (section_index, (code, rows, blocks)) in sections.iter().enumerate() {
        for r in 0..*rows {
            let label = char::from(b'A' + row);
            row += 1;
            let width: usize = blocks.iter().sum();
            let mut tokens: Vec<String> = Vec::new();
            let mut seat = 0usize;
            for (b, block) in blocks.iter().enumerate() {
                if b > 0 {
                    tokens.push("_".into());
                }
                for _ in 0..*block {
                    let accessible_row = section_index == 0 && r + 1 == *rows;
                    let token = if accessible_row && (seat == 0 || seat + 1 == width) {
                        format!("{code}w")
                    } else if accessible_row && (seat == 1 || seat + 2 == width) {
                        format!("{code}c")
                    } else if row == 1 && seat == 0 && width >= 20 {
                        format!("{code}x")
                    } else {
                        code.to_string()
                    };
                    tokens.push(token);
                    seat += 1;
                }
            }
            lines.push(format!("{label}: {}", tokens.join(" ")));
        }
    }
    lines.join("\n")
}

fn surcharge(format: Format) -> i64 {
    match format {
        Format::TwoD => 0,
        Format::ThreeD => 5_000,
        Format::Imax => 15_000,
        Format::FourDx => 20_000,
    }
}

/// The first demo movie's slug: its presence means the demo catalogue was seeded.
const MARKER_SLUG: &str = "monsoon-express";

/// Creates the demo catalogue unless it is already there. Showtimes cover `DAYS` days from
/// today in India, skipping slots that have already started.
pub async fn seed_demo(db: &Db, now: OffsetDateTime) -> Result<SeedReport, SeedError> {
    // A cheap look first, so that an already seeded database costs no image work (the
    // look inside the transaction below is the one that decides).
    let seeded: Option<i64> = sqlx::query_scalar("SELECT id FROM movies WHERE slug = $1")
        .bind(MARKER_SLUG)
        .fetch_optional(db.reader())
        .await?;
    if seeded.is_some() {
        return Ok(SeedReport::default());
    }
    // Posters are drawn and go through the same decoding and encoding as uploads, before
    // the transaction opens: CPU work never runs inside a write transaction.
    let mut posters = Vec::with_capacity(MOVIES.len());
    for movie in MOVIES {
        let png = poster_png(movie.title, movie.colours).map_err(SeedError::Poster)?;
        posters.push(catalogue::prepare_poster(png).await?);
    }

    let mut tx = db.begin_write().await?;
    let seeded: Option<i64> = sqlx::query_scalar("SELECT id FROM movies WHERE slug = $1")
        .bind(MARKER_SLUG)
        .fetch_optional(&mut *tx)
        .await?;
    if seeded.is_some() {
        tx.rollback().await?;
        return Ok(SeedReport::default());
    }
    let mut report = SeedReport {
        created: true,
        ..SeedReport::default()
    };

    let mut city_ids = Vec::new();
    for (name, slug) in CITIES {
        let city = create_city_in(&mut tx, name, slug).await?;
        city_ids.push((*slug, city.id));
        report.cities += 1;
    }

    // (screen, whether it is its theatre's big screen, the only one with IMAX and 4DX)
    let mut screens: Vec<(CreatedScreen, bool)> = Vec::new();
    for theatre in THEATRES {
        let city_id = city_ids
            .iter()
            .find(|(slug, _)| *slug == theatre.city)
            .map(|(_, id)| *id)
            .ok_or(CatalogueError::UnknownCity)?;
        let theatre_id = create_theatre_in(
            &mut tx,
            city_id,
            theatre.name,
            theatre.address,
            DEFAULT_TIMEZONE,
        )
        .await?;
        report.theatres += 1;
        for (index, screen) in theatre.screens.iter().enumerate() {
            let created = create_screen_in(
                &mut tx,
                theatre_id,
                screen.name,
                &category_defs(screen.sections),
                &layout_text(screen.sections),
            )
            .await?;
            report.seats += created.seat_count;
            report.screens += 1;
            screens.push((created, index == 0));
        }
    }

    let today = catalogue::today(now);
    let mut showing = Vec::new();
    for (movie, poster) in MOVIES.iter().zip(&posters) {
        let created = create_movie_in(
            &mut tx,
            &NewMovie {
                title: movie.title.into(),
                synopsis: movie.synopsis.into(),
                runtime_minutes: movie.runtime,
                certificate: movie.certificate,
                release_date: today + Duration::days(movie.release_in_days),
                genres: movie.genres.iter().map(|g| (*g).to_owned()).collect(),
                languages: movie.languages.iter().map(|l| (*l).to_owned()).collect(),
                trailer_url: movie.trailer.then(|| {
                    format!(
                        "https://www.example.com/trailers/{}",
                        catalogue::slugify(movie.title)
                    )
                }),
            },
            now,
        )
        .await?;
        set_poster_in(&mut tx, created.id, poster, now).await?;
        report.movies += 1;
        if movie.release_in_days <= 0 {
            showing.push((created.id, movie));
        }
    }

    let tz = time_tz::timezones::get_by_name(DEFAULT_TIMEZONE);
    for day in 0..DAYS {
        let date = today + Duration::days(day);
        for (screen_index, (screen, big)) in screens.iter().enumerate() {
            for (slot_index, (hour, minute)) in SLOTS.iter().enumerate() {
                let Ok(time) = Time::from_hms(*hour, *minute, 0) else {
                    continue;
                };
                let local = date.with_time(time);
                let starts_at = match tz.map(|tz| local.assume_timezone(tz)) {
                    Some(time_tz::OffsetResult::Some(t))
                    | Some(time_tz::OffsetResult::Ambiguous(t, _)) => t,
                    // A wall-clock time skipped by a daylight-saving change: no show.
                    Some(time_tz::OffsetResult::None) => continue,
                    None => local.assume_utc(),
                };
                if starts_at <= now {
                    continue;
                }
                let pick = (screen_index * 3 + slot_index + day as usize) % showing.len();
                let (movie_id, movie) = showing[pick];
                let format = match movie.formats[(screen_index + slot_index) % movie.formats.len()]
                {
                    Format::Imax | Format::FourDx if !big => Format::TwoD,
                    format => format,
                };
                let language = movie.languages[(slot_index + day as usize) % movie.languages.len()];
                let prices = screen
                    .categories
                    .iter()
                    .map(|c| {
                        let base = PRICES
                            .iter()
                            .find(|(code, _)| code.to_string() == c.code)
                            .map(|(_, p)| *p)
                            .unwrap_or(20_000);
                        NewPrice {
                            category_id: c.id,
                            price_paise: base + surcharge(format),
                        }
                    })
                    .collect();
                create_showtime_in(
                    &mut tx,
                    &NewShowtime {
                        movie_id,
                        screen_id: screen.id,
                        starts_at,
                        language: language.into(),
                        format,
                        prices,
                    },
                    now,
                )
                .await?;
                report.showtimes += 1;
            }
        }
    }
    tx.commit().await?;
    if db.engine() == crate::db::Engine::Postgres {
        // Fresh statistics after a bulk load, as PostgreSQL recommends; autovacuum would
        // get there within minutes, this makes the very first requests plan well too.
        sqlx::query("ANALYZE").execute(db.writer()).await?;
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// Posters

const POSTER_WIDTH: u32 = 240;
const POSTER_HEIGHT: u32 = 360;

type Rgb = [f32; 3];

/// HSV (hue in degrees) to RGB in 0..1.
fn hsv(h: f32, s: f32, v: f32) -> Rgb {
    let h = (h.rem_euclid(360.0)) / 60.0;
    let c = v * s;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r + m, g + m, b + m]
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// A 5x7 pixel font: seven rows of five bits per glyph.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '&' => [0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '!' => [0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04],
        '\'' => [0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00],
        _ => [0; 7],
    }
}

/// Splits a title into lines of at most `max` characters at spaces.
fn wrap(title: &str, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in title.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= max => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// Draws a poster: a vertical gradient between two hues, a glowing sun over rolling hills,
/// and the title in a band at the bottom. Returns PNG bytes.
pub fn poster_png(title: &str, hues: (f32, f32)) -> Result<Vec<u8>, String> {
    let (w, h) = (POSTER_WIDTH as usize, POSTER_HEIGHT as usize);
    let top = hsv(hues.0, 0.65, 0.95);
    let bottom = hsv(hues.1, 0.85, 0.35);
    let sun = mix(hsv(hues.0 + 30.0, 0.35, 1.0), [1.0, 1.0, 1.0], 0.3);
    let hills = mix(bottom, [0.0, 0.0, 0.0], 0.45);
    let band = mix(bottom, [0.0, 0.0, 0.0], 0.7);
    let phase = title.bytes().map(f32::from).sum::<f32>() / 17.0;

    let mut pixels = vec![[0f32; 3]; w * h];
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32, y as f32);
            let mut c = mix(top, bottom, fy / h as f32);
            // The sun: a disc with a soft glow around it.
            let d = ((fx - 120.0).powi(2) + (fy - 120.0).powi(2)).sqrt();
            if d < 58.0 {
                c = mix(sun, c, (d - 56.0).max(0.0) / 2.0);
            } else {
                c = mix(c, sun, 0.35 * (1.0 - (d - 58.0) / 50.0).max(0.0));
            }
            // Two ranges of hills.
            let far = 185.0 + 14.0 * (fx / 31.0 + phase).sin() + 6.0 * (fx / 11.0).sin();
            let near = 215.0 + 18.0 * (fx / 43.0 + phase * 1.7).sin();
            if fy > near {
                c = hills;
            } else if fy > far {
                c = mix(hills, c, 0.45);
            }
            // The title band.
            if (252.0..344.0).contains(&fy) {
                c = mix(c, band, 0.8);
            }
            pixels[y * w + x] = c;
        }
    }

    let lines = wrap(title, 16);
    let scale = if lines.iter().all(|l| l.len() <= 10) && lines.len() <= 2 {
        3
    } else {
        2
    };
    let (glyph_w, glyph_h) = (6 * scale, 9 * scale);
    let block_h = lines.len().min(4) * glyph_h;
    let mut y0 = 298usize.saturating_sub(block_h / 2);
    for line in lines.iter().take(4) {
        let line_w = line.chars().count() * glyph_w;
        let x0 = (w.saturating_sub(line_w)) / 2;
        for (i, ch) in line.chars().enumerate() {
            let rows = glyph(ch);
            for (gy, bits) in rows.iter().enumerate() {
                for gx in 0..5 {
                    if bits & (0x10 >> gx) == 0 {
                        continue;
                    }
                    for sy in 0..scale {
                        for sx in 0..scale {
                            let px = x0 + i * glyph_w + gx * scale + sx;
                            let py = y0 + gy * scale + sy;
                            if px < w && py < h {
                                pixels[py * w + px] = [1.0, 0.97, 0.9];
                            }
                        }
                    }
                }
            }
        }
        y0 += glyph_h;
    }

    let data: Vec<u8> = pixels
        .iter()
        .flat_map(|p| p.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
        .collect();
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, POSTER_WIDTH, POSTER_HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&data).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::screens::{SeatKind, parse_layout};

    #[test]
    fn demo_screens_have_100_to_300_seats_with_aisles_and_wheelchair_spaces() {
        let mut sizes = Vec::new();
        for theatre in THEATRES {
            for screen in theatre.screens {
                let seats = parse_layout(
                    &layout_text(screen.sections),
                    &category_defs(screen.sections),
                )
                .unwrap_or_else(|e| panic!("{} {}: {e}", theatre.name, screen.name));
                assert!(
                    (100..=300).contains(&seats.len()),
                    "{} {}",
                    theatre.name,
                    screen.name
                );
                assert!(seats.iter().any(|s| s.kind == SeatKind::Wheelchair));
                assert!(seats.iter().any(|s| s.kind == SeatKind::Companion));
                let categories = category_defs(screen.sections).len();
                assert!((2..=3).contains(&categories));
                sizes.push(seats.len());
            }
        }
        assert!(sizes.contains(&300), "one screen has 300 seats: {sizes:?}");
    }

    #[test]
    fn slots_leave_room_for_every_now_showing_film() {
        let longest = MOVIES
            .iter()
            .filter(|m| m.release_in_days <= 0)
            .map(|m| m.runtime)
            .max()
            .unwrap();
        let gap = 210;
        assert!(longest + crate::domain::showtimes::CLEANING_BUFFER_MINUTES <= gap);
    }

    #[test]
    fn posters_are_png() {
        let png = poster_png("Chai & Chaos", (20.0, 340.0)).unwrap();
        assert_eq!(
            crate::domain::poster_image::PosterKind::sniff(&png),
            Some(crate::domain::poster_image::PosterKind::Png)
        );
        assert!(png.len() < 200_000, "{} bytes", png.len());
    }

    #[test]
    fn titles_wrap_at_spaces() {
        assert_eq!(
            wrap("Midnight Cricket Club", 16),
            ["Midnight Cricket", "Club"]
        );
    }
}

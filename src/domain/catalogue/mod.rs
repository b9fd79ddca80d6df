//! The catalogue: cities, theatres and movies (with their genres, languages and posters),
//! and the searches that browse them. One submodule per concern; the items are re-exported
//! here so that callers name them `catalogue::…` whichever room they live in.
//!
//! Every listing here is a fixed, small number of statements whatever the page size: one
//! query for the rows, one for the total, and one that loads the genres and languages of all
//! the listed movies together (`load_tags`), never one query per movie.

mod cities;
mod dates;
mod movies;
mod posters;
mod query;
mod search;
mod slug;
mod theatres;

pub use cities::{City, create_city, find_city_by_slug, list_cities};
pub(crate) use cities::{check_city, create_city_in};
pub use dates::{DEFAULT_TIMEZONE, local_day_bounds, parse_date, today};
pub use movies::{
    Certificate, MovieCard, MovieDetail, MovieRef, NewMovie, count_movies, create_movie,
    find_movie, find_movie_by_slug, runtime_display, valid_trailer_url,
};
pub(crate) use movies::{clean_list, create_movie_in};
pub(crate) use posters::set_poster_in;
pub use posters::{
    MAX_POSTER_BYTES, Poster, PosterLookup, PosterSize, find_poster, prepare_poster, set_poster,
    store_poster,
};
pub use search::{
    FilterOptions, MovieFilter, MoviePage, Shelves, filter_options, search_movies, shelves,
};
pub use slug::{Slug, slugify};
pub(crate) use theatres::{check_theatre, create_theatre_in};
pub use theatres::{create_theatre, is_known_timezone};

use crate::domain::validation::FieldErrors;

/// Text from a URL as a value to look up: NUL characters removed (PostgreSQL refuses them
/// in text, and no name or slug contains one).
pub(crate) fn lookup_text(text: &str) -> String {
    text.replace('\0', "")
}

/// Why a catalogue change was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("please correct the highlighted fields")]
    Invalid(FieldErrors),
    #[error("there is no such movie")]
    UnknownMovie,
    #[error("there is no such city")]
    UnknownCity,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &str, message: &str) -> CatalogueError {
    CatalogueError::Invalid(FieldErrors::from([(field.to_owned(), message.to_owned())]))
}

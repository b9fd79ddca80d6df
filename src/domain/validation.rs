//! What the domain says about input it refuses: a message per form field.
//!
//! It lives here, not in the web layer's error type, so that domain rules can collect field
//! errors without depending on HTTP; `web` turns them into a 422 page or JSON body.

use std::collections::BTreeMap;

/// Messages for individual form fields, keyed by field name.
pub type FieldErrors = BTreeMap<String, String>;

//! Statements assembled from optional pieces (the search filters, a movie by id or by
//! slug). sqlx's `QueryBuilder<Any>` writes `?` placeholders, which PostgreSQL refuses, so
//! the pieces number their own `$N`.

use sqlx::any::AnyArguments;

/// A bound value of a dynamically assembled statement.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    Int(i64),
    Text(String),
}

impl Arg {
    pub(super) fn bind_as<'q, T>(
        self,
        query: sqlx::query::QueryAs<'q, sqlx::Any, T, AnyArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, T, AnyArguments> {
        match self {
            Arg::Int(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
        }
    }
}

/// A WHERE clause with numbered placeholders and their values, built piece by piece. Only
/// fixed SQL fragments and `$N` placeholders go into the text; every value is bound.
#[derive(Debug, Default)]
pub(super) struct Conditions {
    pub(super) sql: String,
    args: Vec<Arg>,
}

impl Conditions {
    /// Conditions that start with a fixed fragment.
    pub(super) fn new(first: &str) -> Self {
        Self {
            sql: first.to_owned(),
            args: Vec::new(),
        }
    }

    pub(super) fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    pub(super) fn and(&mut self, fragment: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(fragment);
    }

    /// The statement `sql` (which uses these conditions), decoded into rows of `T`.
    pub(super) fn query_as<T>(
        &self,
        sql: String,
    ) -> sqlx::query::QueryAs<'static, sqlx::Any, T, AnyArguments>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut query = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql));
        for arg in &self.args {
            query = arg.clone().bind_as(query);
        }
        query
    }
}

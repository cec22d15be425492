//! Query strings, read in one place: percent-decoded once (`form_urlencoded`, `+` is a
//! space, bytes that are not UTF-8 become U+FFFD, a name without `=` has the value
//! ""), then read by typed getters that answer the spec's 406 `Parameter '<name>' is
//! malformed.` for a bad value. Names a handler does not ask for are left alone (the
//! agent key travels as `?key=` on every key endpoint). It never builds SQL: values
//! reach PostgreSQL as bind parameters, in the actors.

use std::future::{ready, Ready};
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::error::ApiError;

/// The decoded name/value pairs of a request's query string, in order.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(query_string: &str) -> Query {
        let pairs = form_urlencoded::parse(query_string.as_bytes())
            .into_owned()
            .collect();
        Query { pairs }
    }

    /// Every value given for `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that may be given once: None when absent; 406 when `read` refuses
    /// its value or when it is given twice.
    pub fn once<T>(
        &self,
        name: &str,
        read: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        let mut values = self.all(name);
        let Some(first) = values.next() else {
            return Ok(None);
        };
        let value = read(first).ok_or_else(|| ApiError::malformed(name))?;
        match values.next() {
            Some(_) => Err(ApiError::malformed(name)),
            None => Ok(Some(value)),
        }
    }
}

/// A reader for `once`: a number of type `T` that `accept` admits.
pub fn number<T: FromStr>(accept: impl Fn(&T) -> bool) -> impl Fn(&str) -> Option<T> {
    move |value| value.parse::<T>().ok().filter(|n| accept(n))
}

impl FromRequest for Query {
    type Error = ApiError;
    type Future = Ready<Result<Query, ApiError>>;

    /// Never fails: a value is judged when a handler reads it, after authentication.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Query::parse(req.query_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once() {
        let q = Query::parse("a=my%20db&b=x+y&c&key=k1&key=k%2B2&d=%FF");
        assert_eq!(q.all("a").collect::<Vec<_>>(), ["my db"]);
        assert_eq!(q.all("b").collect::<Vec<_>>(), ["x y"]);
        assert_eq!(q.all("c").collect::<Vec<_>>(), [""]);
        assert_eq!(q.all("key").collect::<Vec<_>>(), ["k1", "k+2"]);
        assert_eq!(q.all("d").collect::<Vec<_>>(), ["\u{FFFD}"]);
        assert_eq!(q.all("e").count(), 0);
    }

    #[test]
    fn once_refuses_a_bad_value_and_a_second_one() {
        let limit = number(|l: &u32| *l > 0);
        assert_eq!(Query::parse("").once("limit", &limit), Ok(None));
        assert_eq!(Query::parse("limit=3").once("limit", &limit), Ok(Some(3)));
        for bad in ["limit=0", "limit=x", "limit=", "limit=1&limit=2"] {
            assert_eq!(
                Query::parse(bad).once("limit", &limit),
                Err(ApiError::malformed("limit")),
                "{bad}"
            );
        }
    }
}

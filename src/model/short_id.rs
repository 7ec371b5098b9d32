//! Short task ids. Task ids are UUIDv7: their first digits are the time they were made,
//! the same for every task of the same minute, and their last are random. So the short
//! id shown is the id's last 8 hex digits, and a task is looked up by any 4 or more
//! of its final digits.

use uuid::Uuid;

/// Digits a short id shows.
pub const SHORT_ID_LEN: usize = 8;
/// Fewest digits a lookup takes.
pub const MIN_LOOKUP: usize = 4;

/// The id's last [`SHORT_ID_LEN`] hex digits.
pub fn short_id(id: &Uuid) -> String {
    let simple = id.simple().to_string();
    simple[simple.len() - SHORT_ID_LEN..].to_string()
}

/// The final digits `text` gives of an id, lower-case without hyphens, when it is 4 to
/// 32 hex digits (hyphens allowed, nothing else, not even spaces); else `None`.
pub fn id_suffix(text: &str) -> Option<String> {
    let digits: String = text
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let hex = digits.chars().all(|c| c.is_ascii_hexdigit());
    (hex && (MIN_LOOKUP..=32).contains(&digits.len())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_one_moment_differ_in_their_short_form_and_suffixes_are_checked() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        assert_eq!(a.to_string()[..8], b.to_string()[..8], "same time part");
        assert_ne!(short_id(&a), short_id(&b));
        assert!(a.simple().to_string().ends_with(&short_id(&a)));
        assert_eq!(id_suffix("9F3A-61C2").as_deref(), Some("9f3a61c2"));
        assert_eq!(id_suffix(&a.to_string()), Some(a.simple().to_string()));
        for bad in [
            "abc",
            "xyz12",
            "",
            "9f3a 61c2",
            " 9f3a61c2",
            "abcd\n",
            &"a".repeat(33),
        ] {
            assert_eq!(id_suffix(bad), None, "{bad:?}");
        }
    }
}

//! The narration's language.

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Português do Brasil (the book's language).
    Pt,
    /// English.
    En,
}

impl Lang {
    /// Pick the text in this language.
    pub fn t<'a>(self, pt: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Pt => pt,
            Lang::En => en,
        }
    }
}

/// The prompt of a command as the book prints it.
pub fn book_prompt(lang: Lang) -> &'static str {
    lang.t("livro", "book")
}

/// The prompt of a command the book does not have, as typed on the book's cluster.
pub fn cluster_prompt(_lang: Lang) -> &'static str {
    "cluster"
}

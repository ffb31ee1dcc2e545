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

//! Text analysis shared by the index and the gazetteer: words split on anything that is
//! not a letter or a digit (any script), lower-cased and folded to ASCII where a folding
//! exists ("São" -> "sao", "Zürich" -> "zurich", "Straße" -> "strasse").
//!
//! Scripts written without spaces between words (Chinese, Japanese kana, Thai, Lao,
//! Khmer, Myanmar) get one token per character: we ship no dictionary to segment them,
//! and single characters still let "東京" find "東京駅" (every character must match).
//! Korean is written with spaces and is tokenized into words like Latin text.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name under which the analyzer is registered in the index.
pub(crate) const TEXT_ANALYZER: &str = "innkeep_text";

/// Tokens longer than this (in bytes) are dropped: they are noise, not words.
const MAX_TOKEN_BYTES: usize = 64;

/// The analyzer for every text field and every free-text query.
pub(crate) fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The analyzed words of `text`.
pub(crate) fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// The analyzed words of `text` joined by single spaces: the key that compares names
/// regardless of case, accents and punctuation ("São Paulo" and "sao-paulo" -> "sao paulo").
pub(crate) fn fold(analyzer: &mut TextAnalyzer, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if text.is_ascii() {
        // The same result as the analyzer, without its per-token work (most names are ASCII).
        for word in
            text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty() && w.len() <= MAX_TOKEN_BYTES)
        {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        }
        return out;
    }
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&token.text);
    }
    out
}

/// Whether `c` belongs to a script written without spaces between words.
fn is_unsegmented(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF      // Thai, Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x17FF    // Khmer
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x20000..=0x2FA1F) // CJK extensions B.. and compatibility supplement
}

/// Splits on non-alphanumeric characters; one token per character in unsegmented scripts.
#[derive(Clone, Default)]
pub(crate) struct WordTokenizer {
    tokens: Vec<Token>,
}

/// The tokens of one text, handed out one by one.
pub(crate) struct WordTokenStream<'a> {
    tokens: std::vec::Drain<'a, Token>,
    current: Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        self.tokens.clear();
        let tokens = &mut self.tokens;
        let mut push = |from: usize, to: usize| {
            let position = tokens.len();
            tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position,
                text: text[from..to].to_string(),
                position_length: 1,
            });
        };
        let mut start: Option<usize> = None;
        for (i, c) in text.char_indices() {
            if is_unsegmented(c) {
                if let Some(s) = start.take() {
                    push(s, i);
                }
                push(i, i + c.len_utf8());
            } else if c.is_alphanumeric() {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                push(s, i);
            }
        }
        if let Some(s) = start {
            push(s, text.len());
        }
        WordTokenStream { tokens: self.tokens.drain(..), current: Token::default() }
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_punctuation() {
        let mut a = text_analyzer();
        assert_eq!(fold(&mut a, "São Paulo"), "sao paulo");
        assert_eq!(fold(&mut a, "  ZÜRICH (Kreis 11) / Seebach "), "zurich kreis 11 seebach");
        assert_eq!(fold(&mut a, "Straße"), "strasse");
        assert_eq!(fold(&mut a, "Ærøskøbing"), "aeroskobing");
        assert_eq!(fold(&mut a, "---"), "");
        // The ASCII shortcut agrees with the analyzer.
        for text in ["New York City", " a--b  C9 ", "O'Brien's Inn", &"x".repeat(70), "Fort-de-France (Martinique)"] {
            assert_eq!(fold(&mut a, text), words(&mut a, text).join(" "), "{text:?}");
        }
    }

    #[test]
    fn splits_unsegmented_scripts_per_character() {
        let mut a = text_analyzer();
        assert_eq!(words(&mut a, "東京駅 Hotel"), vec!["東", "京", "駅", "hotel"]);
        assert_eq!(words(&mut a, "ホテルabc"), vec!["ホ", "テ", "ル", "abc"]);
        assert_eq!(words(&mut a, "서울 호텔"), vec!["서울", "호텔"]);
        assert_eq!(words(&mut a, "Москва"), vec!["москва"]);
    }
}

//! Messages built at compile time: text and decimal numbers for a `const`
//! panic, which is how the crate's build-time checks (training budgets,
//! embedded parameter files) say what is wrong with the figures.

/// A message built at compile time: text and decimal numbers in a fixed
/// buffer, for a `const` panic.
pub(crate) struct Message {
    bytes: [u8; 512],
    len: usize,
}

impl Message {
    pub(crate) const fn new() -> Self {
        Message { bytes: [0; 512], len: 0 }
    }

    pub(crate) const fn push(&mut self, text: &str) -> &mut Self {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// `n` in decimal, with a comma every three digits.
    pub(crate) const fn number(&mut self, n: usize) -> &mut Self {
        self.digits(n, true)
    }

    /// `n` in decimal without separators, as in a type (`Dense<1024, 10>`).
    pub(crate) const fn plain_number(&mut self, n: usize) -> &mut Self {
        self.digits(n, false)
    }

    const fn digits(&mut self, n: usize, separators: bool) -> &mut Self {
        let mut digits = [0u8; 20];
        let (mut count, mut rest) = (0, n);
        loop {
            digits[count] = b'0' + (rest % 10) as u8;
            count += 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.bytes.len() {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
            if separators && count > 0 && count % 3 == 0 && self.len < self.bytes.len() {
                self.bytes[self.len] = b',';
                self.len += 1;
            }
        }
        self
    }

    pub(crate) const fn fail(&self) -> ! {
        match core::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(text) => panic!("{}", text),
            Err(_) => panic!("typenet: a message cut inside a character"),
        }
    }
}

impl Message {
    /// `dims` as `8×4` (a scalar as `scalar`).
    pub(crate) const fn shape(&mut self, dims: &[u32]) -> &mut Self {
        if dims.is_empty() {
            return self.push("scalar");
        }
        let mut i = 0;
        while i < dims.len() {
            if i > 0 {
                self.push("×");
            }
            self.number(dims[i] as usize);
            i += 1;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_in_decimal_with_separators() {
        let mut m = Message::new();
        m.number(0).push(" ").number(999).push(" ").number(1000).push(" ").number(1_234_567);
        m.push(" ").plain_number(0).push(" ").plain_number(1024);
        assert_eq!(core::str::from_utf8(&m.bytes[..m.len]).unwrap(), "0 999 1,000 1,234,567 0 1024");
    }

    #[test]
    fn shapes_read_as_products() {
        let mut m = Message::new();
        m.shape(&[8, 4]).push(" ").shape(&[]).push(" ").shape(&[1_000]);
        assert_eq!(core::str::from_utf8(&m.bytes[..m.len]).unwrap(), "8×4 scalar 1,000");
    }
}

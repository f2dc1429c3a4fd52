use std::fmt;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The block, e.g. `kms "TYPE"`.
    pub block: Option<String>,
    /// The attribute.
    pub key: Option<String>,
    /// What is wrong (never a secret value).
    pub message: String,
}

/// Text with its control characters (new lines included) escaped, so that each problem
/// stays on one line whatever a file's labels, keys or paths hold.
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// `FILE: kms "TYPE" block at line N: KEY: message`, on one line; the parts not known are
/// left out.
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", OneLine(&self.file))?;
        match (&self.block, self.line) {
            (Some(b), Some(l)) => write!(f, ": {} block at line {l}", OneLine(b))?,
            (Some(b), None) => write!(f, ": {} block", OneLine(b))?,
            (None, Some(l)) => write!(f, ": line {l}")?,
            (None, None) => {}
        }
        if let Some(k) = &self.key {
            write!(f, ": {}", OneLine(k))?;
        }
        write!(f, ": {}", OneLine(&self.message))
    }
}

/// Every problem found in a config file. `Display` prints one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub(crate) fn single(file: &str, message: String) -> Self {
        ConfigErrors(vec![ConfigError {
            file: file.to_owned(),
            line: None,
            block: None,
            key: None,
            message,
        }])
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_is_one_line() {
        let e = ConfigError {
            file: "a\nb.hcl".into(),
            line: Some(3),
            block: Some("kms \"x\ny\"".into()),
            key: Some("k\r".into()),
            message: "m\nn".into(),
        };
        assert_eq!(
            e.to_string(),
            "a\\nb.hcl: kms \"x\\ny\" block at line 3: k\\r: m\\nn"
        );
        let all = ConfigErrors(vec![
            e.clone(),
            ConfigError {
                line: None,
                block: None,
                key: None,
                ..e
            },
        ]);
        assert_eq!(all.to_string().lines().count(), 2);
        assert!(all.to_string().ends_with("a\\nb.hcl: m\\nn"));
    }
}

//! The `Examples:` section at the end of each command's `--help` (and man page).

pub(crate) const KMS: &str = "\
Examples:
  # A root key for a controller config, then a check of its kms stanzas
  kms keygen
  kms check -c controller.hcl --offline
  # Encrypt a backup under the root key, and decrypt it
  kms encrypt -c controller.hcl -o backup.tar.kms backup.tar
  kms decrypt -c controller.hcl -o backup.tar backup.tar.kms

Each command's --help has more; docs/CLI.md describes every command, its exit codes and its
--json output, docs/ERRORS.md every error message.";

pub(crate) const KEYGEN: &str = "\
Examples:
  # A key for the root stanza of a controller config:
  #   kms \"aead\" { purpose = \"root\"  aead_type = \"aes-gcm\"  key = \"<this>\"  key_id = \"global_root\" }
  kms keygen
  # An AES-128 key (Boundary accepts 128, 192 and 256 bits)
  kms keygen --bits 128";

pub(crate) const ENCRYPT: &str = "\
Examples:
  # Encrypt a backup under the root key of controller.hcl
  kms encrypt -c controller.hcl -o backup.tar.kms backup.tar
  # From a pipe, also wrapped under the recovery key (either key then decrypts)
  pg_dump mydb | kms encrypt -c controller.hcl --also recovery -o mydb.sql.kms
  # A BlobInfo value for a {{decrypt(..)}} marker, as `boundary config encrypt` writes
  printf %s \"$DB_PASSWORD\" | kms encrypt -c controller.hcl --purpose config --value
  # Report the output path, sizes and key ids as JSON
  kms encrypt -c controller.hcl -o backup.tar.kms --json backup.tar";

pub(crate) const DECRYPT: &str = "\
Examples:
  # Decrypt a backup into a file
  kms decrypt -c controller.hcl -o backup.tar backup.tar.kms
  # Into a pipe: only authenticated plaintext is written
  kms decrypt -c controller.hcl backup.tar.kms | tar -x
  # After a rotation the old key, in a previous-root stanza, still opens old files
  kms decrypt -c rotated.hcl -o old.tar old.tar.kms
  # Report the output path, sizes and recorded key ids as JSON (plaintext needs -o)
  kms decrypt -c controller.hcl -o backup.tar --json backup.tar.kms";

pub(crate) const INSPECT: &str = "\
Examples:
  # Which key a file needs, without any key
  kms inspect backup.tar.kms
  kms inspect --json backup.tar.kms | jq -r '.wrapped_keys[].key_id'";

pub(crate) const CHECK: &str = "\
Examples:
  # Validate a controller config's kms stanzas without contacting any key
  kms check -c controller.hcl --offline
  # Also prove each key works: a round trip through its backend (AWS KMS: Encrypt, Decrypt)
  kms check -c controller.hcl
  # In CI: warnings refused too, the result as JSON
  kms check -c controller.hcl --offline --strict --json";

pub(crate) const REWRAP: &str = "\
Examples:
  # A rotation: put the new key in the root stanza and the old one in a previous-root
  # stanza, then move every file under the new key
  kms rewrap -c controller.hcl -r /var/backups
  # Authenticate every file as well, the current ones too
  kms rewrap -c controller.hcl -r --verify /var/backups";

pub(crate) const CLEAN: &str = "\
Examples:
  # List the temp files a killed kms left, then remove them
  kms clean -n /var/backups
  kms clean /var/backups";

pub(crate) const CONFIG: &str = "\
Examples:
  # controller.hcl holds  password = \"{{encrypt(s3cret)}}\"  and a purpose = \"config\" stanza
  kms config encrypt -c controller.hcl --overwrite controller.hcl
  kms config decrypt -c controller.hcl controller.hcl";

pub(crate) const CONFIG_ENCRYPT: &str = "\
Examples:
  # Protect the marked values in place with the config-purpose key of kms.hcl
  kms config encrypt -c kms.hcl --overwrite controller.hcl
  # Write the result elsewhere
  kms config encrypt -c kms.hcl -o controller.enc.hcl controller.hcl";

pub(crate) const CONFIG_DECRYPT: &str = "\
Examples:
  # Show the values back as {{encrypt(..)}} markers, to edit them
  kms config decrypt -c kms.hcl controller.hcl
  # Bare values, markers removed
  kms config decrypt -c kms.hcl --strip -o controller.plain.hcl controller.hcl";

pub(crate) const COMPLETIONS: &str = "\
Examples:
  kms completions bash > /etc/bash_completion.d/kms
  kms completions zsh > \"${fpath[1]}/_kms\"
  kms completions fish > ~/.config/fish/completions/kms.fish";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    /// Every `kms ...` line of every command's examples parses with today's flags: an
    /// example cannot drift from the command line it shows.
    #[test]
    fn every_example_parses() {
        let mut cmd = crate::cli::command();
        cmd.build();
        let mut seen = 0;
        let mut stack = vec![cmd.clone()];
        while let Some(c) = stack.pop() {
            stack.extend(c.get_subcommands().cloned());
            let Some(help) = c.get_after_help() else {
                continue;
            };
            for line in help.to_string().lines() {
                let line = line.trim();
                if line.starts_with('#') {
                    continue;
                }
                // The kms part of a pipeline, without a redirection.
                let Some(part) = line.split(" | ").find(|p| p.starts_with("kms ")) else {
                    continue;
                };
                let part = part.split(" > ").next().unwrap();
                let args: Vec<&str> = part.split_whitespace().collect();
                if let Err(e) = cmd.clone().try_get_matches_from(&args) {
                    panic!("{}: example {part:?} does not parse: {e}", c.get_name());
                }
                seen += 1;
            }
        }
        assert!(seen >= 20, "{seen} examples");
    }
}

/**
 * The common setup actions a skipped `uses:` step most often is, with what each would have done
 * on GitHub: said in the console when the step is skipped, so that a later step failing for
 * want of it (no toolchain, no artifact) is not a mystery. One table; patterns match
 * `owner/repo[/path]` case-insensitively, as GitHub matches action names.
 */
const SETUP_ACTIONS: readonly { pattern: RegExp; onGitHub: string }[] = [
  {
    pattern: /^actions\/checkout$/i,
    onGitHub: 'it clones the repository into the workspace; here the steps run in your checkout',
  },
  {
    pattern: /^actions\/cache(\/(restore|save))?$/i,
    onGitHub: 'it restores and saves cached files between runs; here nothing is cached',
  },
  {
    pattern: /^actions\/setup-([a-z0-9-]+)$/i,
    onGitHub: 'it installs $1 and puts it on PATH; here the steps use the $1 found on PATH, if any',
  },
  {
    pattern: /^dtolnay\/rust-toolchain$/i,
    onGitHub: 'it installs a Rust toolchain with rustup; here the steps use the cargo and rustc on PATH',
  },
  {
    pattern: /^swatinem\/rust-cache$/i,
    onGitHub: 'it restores and saves Cargo caches between runs; here nothing is cached',
  },
  {
    pattern: /^astral-sh\/setup-uv$/i,
    onGitHub: 'it installs uv and puts it on PATH; here the steps use the uv found on PATH, if any',
  },
  {
    pattern: /^[^/]+\/upload-artifact(\/merge)?$/i,
    onGitHub: "it uploads files as the run's artifact; here the files stay where the steps wrote them",
  },
  {
    pattern: /^[^/]+\/download-artifact$/i,
    onGitHub: 'it downloads artifacts of earlier jobs; here none are downloaded',
  },
];

/**
 * `actions/checkout@v4 skipped: on GitHub it clones …` for a common setup action, else
 * undefined. `uses`: the step's `uses:` as written.
 */
export function describeSkippedSetupAction(uses: string): string | undefined {
  const at = uses.indexOf('@');
  const name = at < 0 ? uses : uses.slice(0, at);
  for (const { pattern, onGitHub } of SETUP_ACTIONS) {
    if (pattern.test(name)) return `${uses} skipped: on GitHub ${name.replace(pattern, onGitHub)}`;
  }
  return undefined;
}

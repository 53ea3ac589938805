// The browser the web UI and GraphiQL tests drive, and the flags that keep it off the network.

/** CI installs Debian's `chromium` package; a browser test fails (it does not skip) without it. */
export const CHROMIUM = '/usr/bin/chromium';

/** No sandbox (containers), GPU, QUIC, first-run, updates, sync or background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

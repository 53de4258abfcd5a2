// Whether a listen address is loopback-only, for TcpAuth "auto": a client on such an address is on
// this machine and need not authenticate. A wrong yes would open a public listener without a
// password, so only literal loopback addresses and `localhost` count; anything unclear is not.

/** 0 to 255 in plain decimal: no sign, no leading zero (some parsers read "010" as octal). */
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4_LOOPBACK = `127\\.${OCTET}\\.${OCTET}\\.${OCTET}`;
const LOOPBACK = new RegExp(`^(?:${IPV4_LOOPBACK}|localhost|::1|\\[::1\\]|::ffff:${IPV4_LOOPBACK})$`, "i");

/**
 * True only for an IPv4 literal 127.x.y.z, `::1` (bracketed or not), `localhost` (any case) and
 * the IPv4-mapped `::ffff:127.x.y.z`; false for names that merely start like one (`127.example.com`).
 */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/** A name as a DNS label (lower case, `-` for the rest): the plan and group ids tgc makes of Testground's. */
export function dnsLabel(raw: string): string {
  return (
    raw
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'testground'
  );
}

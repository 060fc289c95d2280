import { isIP } from 'node:net';

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. Anything else, including an unknown peer, is not. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.split('.')[0] === '127';
  if (isIP(address) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(address) || address === '::1';
  return false;
}

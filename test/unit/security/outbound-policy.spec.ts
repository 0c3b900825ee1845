import { OutboundPolicy, OutboundRefusedError } from '../../../src/security/outbound-policy.js';

describe('OutboundPolicy', () => {
  const dns: Record<string, string[]> = {
    'public.example': ['93.184.216.34'],
    'rebind.example': ['93.184.216.34', '127.0.0.1'],
    'nas.lan': ['192.168.1.20'],
  };
  const resolver = async (host: string) => {
    const a = dns[host];
    if (!a) throw new Error('ENOTFOUND');
    return a;
  };

  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '224.0.0.1',
  ])('should refuse %s when not allow-listed', (ip) => {
    const sut = new OutboundPolicy([], resolver);
    expect(sut.isAllowedAddress(ip)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111'])('should allow %s', (ip) => {
    expect(new OutboundPolicy([], resolver).isAllowedAddress(ip)).toBe(true);
  });

  it('should allow private addresses and ranges listed in OUTBOUND_ALLOW', () => {
    const sut = new OutboundPolicy(['192.168.1.20', '10.8.0.0/16'], resolver);
    expect(sut.isAllowedAddress('192.168.1.20')).toBe(true);
    expect(sut.isAllowedAddress('10.8.3.4')).toBe(true);
    expect(sut.isAllowedAddress('10.9.0.1')).toBe(false);
    expect(sut.isAllowedAddress('192.168.1.21')).toBe(false);
  });

  it('should refuse a name when any of its addresses is refused', async () => {
    const sut = new OutboundPolicy([], resolver);
    await expect(
      sut.checkUrl('https://public.example/dav', 'options.url'),
    ).resolves.toBeUndefined();
    await expect(sut.checkUrl('https://rebind.example/dav', 'options.url')).rejects.toThrow(
      /options\.url: 'rebind\.example' is a private, loopback or link-local address/,
    );
    await expect(sut.checkHost('nas.lan', 'options.host')).rejects.toBeInstanceOf(
      OutboundRefusedError,
    );
    await expect(
      new OutboundPolicy(['192.168.1.20'], resolver).checkHost('nas.lan', 'options.host'),
    ).resolves.toBeUndefined();
  });

  it('should refuse other schemes, unresolvable names and bracketed loopback', async () => {
    const sut = new OutboundPolicy([], resolver);
    await expect(sut.checkUrl('file:///etc/passwd', 'f')).rejects.toThrow(/only http and https/);
    await expect(sut.checkUrl('http://nowhere.example/', 'f')).rejects.toThrow(/does not resolve/);
    await expect(sut.checkUrl('http://[::1]:8080/', 'f')).rejects.toThrow(/loopback/);
  });
});

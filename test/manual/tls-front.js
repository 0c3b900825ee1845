// A TLS front for the emulators under the real host names (issue 20): terminates HTTPS on
// 127.0.0.1:443 with a certificate for those names and forwards each request, Host header kept,
// to the emulator that stands in for that host. Started by rclone-against-emulators.sh.
//
//   node test/manual/tls-front.js <cert.pem> <key.pem> '{"host":port,...}'
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:https';

const [certFile, keyFile, routes] = process.argv.slice(2);
const portOf = JSON.parse(routes);

createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
  const port = portOf[host];
  if (!port) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`no emulator for ${host}\n`);
    return;
  }
  const up = request(
    { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.rawHeaders);
      r.pipe(res);
    },
  );
  up.on('error', () => res.destroy());
  req.pipe(up);
}).listen(443, '127.0.0.1', () => process.stdout.write('tls front on 127.0.0.1:443\n'));

/** The text of `sendspin serve --help`. Kept beside, not inside, the parser so both stay short. */
export const SERVE_HELP = `Usage: sendspin serve [SOURCE] [options]

Play one audio source to every phone in the room, in sync. Listeners open the printed
address (or scan its QR code) in a browser, or connect with any Sendspin client.

Arguments:
  SOURCE                 an audio file, a folder (its audio files in name order, with
                         subfolders), a playlist (.m3u, .m3u8, .pls), a URL (http://,
                         https://, rtsp://, ...), or with --source-format the input of
                         that format (e.g. hw:0)

Options:
  --demo                 play the built-in demo (works offline); beats SOURCE
  --source-format FMT    ffmpeg input format for SOURCE, e.g. alsa or pulse (default: none,
                         SOURCE is a file or URL)
  --shuffle              play the tracks in a random order (controllers can change it)
  --once                 play SOURCE once, end the stream and exit 0 (default: it loops)
  --port N               port to listen on, 0-65535, 0 = any free (default: 8927)
  --host ADDR            address to listen on (default: 0.0.0.0, all interfaces)
  --name NAME            server name shown to clients and on the network
                         (default: Sendspin Server)
  --workers N            processes that serve listeners, 1-64 (default: 1); they share
                         --port, and the kernel spreads guests over them
  --port-per-worker      workers listen on consecutive ports from --port instead (for a
                         reverse proxy, or where the OS cannot share a port)
  --client URL           dial a listening Sendspin client (ws://... or wss://...) or a
                         Chromecast (cast://host[:port]); repeatable; only with --workers 1
                         (default: none)
  --pair SP:0...         pair the speaker whose pairing token this is when it connects
                         (printed on it, or shown by its app); repeatable (default: none)
  --log-level LEVEL      DEBUG, INFO, WARNING, ERROR or CRITICAL, any case (default: INFO)
  --opus-bitrate KBPS    Opus bitrate for listeners that ask for Opus, 6-510 (default: 128)
  --max-clients N        listeners at once, all workers together; the next is told the
                         party is full (default: 1000)
  --guests open|ask      unpaired encrypted clients: everyone with the link may play (open),
                         or the operator approves each one in the console (default: open)
  --legacy on|off        let legacy (unencrypted) clients play; the built-in page is one
                         (default: on)
  --server-id ID         the server_id legacy clients see, the same on every worker
                         (default: one per worker, from the server's key); encrypted
                         clients always see the key's id
  --no-mdns              do not announce the party on the network (mDNS)
  --summary FILE         at exit, write what every client said and was sent (hello, format,
                         sha256 of its audio, metadata, commands) to FILE as JSON, for a
                         test harness (default: none)
  --edges URL            also play to edge servers in other rooms, over the NATS server at
                         URL: nats://[USER:PASSWORD@]HOST[:4222], or tls://... for TLS
                         (default: none; see "sendspin edge --help")
  --nats-creds FILE      NATS credentials from FILE: a .creds file, an nkey seed (SU...),
                         a USER:PASSWORD line or a token (keeps them out of ps)
  --nats-ca FILE         trust this CA certificate (PEM) for NATS over TLS
  -h, --help             show this help and exit

Settings file: ~/.config/sendspin/settings-serve.json
  A JSON object with any of the keys name, log_level, listen_port, source, source_format
  and clients (a list). An option on the command line beats the settings file, which
  beats the default. The source is --demo, else SOURCE, else the settings "source"
  (its "source_format" applies only to it). A missing file is fine; a broken one is
  reported and ignored.

Examples:
  sendspin serve --demo
  sendspin serve ~/Music/party.flac
  sendspin serve ~/Music/party --shuffle
  sendspin serve party.m3u8 --once
  sendspin serve https://example.com/radio.mp3 --name "Kitchen"
  sendspin serve --source-format alsa hw:0
  sendspin serve --source-format pulse default
  sendspin serve party.mp3 --workers 4 --port 8080
  sendspin serve --demo --client ws://192.168.1.20:8928/sendspin
  sendspin serve party.flac --edges nats://origin:secret@192.168.1.10:4222

Your own speakers (while the server runs, from another terminal of the same user):
  sendspin pair SP:0...        pair a speaker with its pairing token
  sendspin clients             list clients; also: approve ID, revoke ID, unpair ID`;

/** The text of `sendspin edge --help`. */
export const EDGE_HELP = `Usage: sendspin edge NATS_URL [options]

Serve the guests of another room (another machine, another Wi-Fi access point) with the
party of a "sendspin serve ... --edges NATS_URL" elsewhere: the same audio, heard at the
same instant, with this machine's own page, QR code, workers and mDNS name.

Arguments:
  NATS_URL               the party's NATS server: nats://[USER:PASSWORD@]HOST[:4222], or
                         tls://... for TLS; several, comma-separated, for a NATS cluster

Options:
  --party ID             the party to join, as its origin's banner shows it (default: the
                         only party on that NATS server)
  --nats-creds FILE      NATS credentials from FILE: a .creds file, an nkey seed (SU...),
                         a USER:PASSWORD line or a token (keeps them out of ps)
  --nats-ca FILE         trust this CA certificate (PEM) for NATS over TLS
  --port N               port to listen on, 0-65535, 0 = any free (default: 8927)
  --host ADDR            address to listen on (default: 0.0.0.0, all interfaces)
  --name NAME            this room's name, shown to its guests (default: the party's
                         name and this host's)
  --workers N            processes that serve listeners here, 1-64 (default: 1)
  --port-per-worker, --client, --pair, --log-level, --opus-bitrate, --max-clients,
  --guests, --legacy, --server-id, --no-mdns, --summary
                         as for sendspin serve (see sendspin serve --help)
  -h, --help             show this help and exit

Controllers here control the whole party; /api/status here counts every room's guests.
If NATS goes away for a while, this room plays on from the audio it holds (about 5 s).

Examples:
  sendspin edge nats://192.168.1.10:4222
  sendspin edge nats://192.168.1.10:4222 --nats-creds ~/.config/sendspin/edge.creds --workers 2
  sendspin edge tls://nats.venue.example:4222 --nats-ca venue-ca.pem --name "Floor 2"`;

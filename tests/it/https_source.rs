//! The daemon's HTTPS root zone source against a local HTTPS server
//! (Python's http.server with a throw-away certificate from openssl, on
//! 127.0.0.1): the zone is downloaded, verified and adopted; an unchanged
//! serial is not adopted again; a server the CA file does not vouch for is
//! refused with an alarm.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rootguard::config::ZoneConfig;
use rootguard::daemon::zone_source::ZoneSource;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const SERVE: &str = "import http.server, ssl, sys, os
os.chdir(sys.argv[1])
httpd = http.server.HTTPServer(('127.0.0.1', int(sys.argv[2])), http.server.SimpleHTTPRequestHandler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()
";

fn cert(dir: &std::path::Path, name: &str) {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(dir.join(format!("{name}.key")))
        .arg("-out")
        .arg(dir.join(format!("{name}.pem")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn https_zone_source() {
    let have = |c: &str| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
            || Command::new(c)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
    };
    if !have("openssl") || !have("python3") {
        crate::support::skip("openssl or python3 is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    cert(d, "server");
    cert(d, "other");
    std::fs::write(
        d.join("root.zone"),
        ". 86400 IN SOA a. b. 7 1 1 1 1\nxa. 1 IN NS ns1.xa.\nns1.xa. 1 IN A 192.0.2.1\n",
    )
    .unwrap();
    let port = crate::support::unique_port();
    let server = Server(
        Command::new("python3")
            .args(["-c", SERVE])
            .arg(d)
            .arg(port.to_string())
            .arg(d.join("server.pem"))
            .arg(d.join("server.key"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("https://127.0.0.1:{port}/root.zone");
    let config = |ca: &str| ZoneConfig {
        url: Some(url.clone()),
        ca_file: Some(d.join(ca)),
        ..Default::default()
    };
    let mut source = ZoneSource::new(&config("server.pem"));
    let (status, alarm) = source
        .refresh(rootguard::time::Timestamp::from_second(1_800_000_000))
        .await;
    assert!(alarm.is_none(), "{alarm:?}");
    assert_eq!(status.unwrap().serial, 7);
    let (again, alarm) = source
        .refresh(rootguard::time::Timestamp::from_second(1_800_000_060))
        .await;
    assert!(
        again.is_none() && alarm.is_none(),
        "same serial: nothing new"
    );

    let mut untrusted = ZoneSource::new(&config("other.pem"));
    let (status, alarm) = untrusted
        .refresh(rootguard::time::Timestamp::from_second(1_800_000_000))
        .await;
    assert!(status.is_none());
    assert!(alarm.unwrap().contains("download failed"));

    let mut plain = ZoneSource::new(&ZoneConfig {
        url: Some(format!("http://127.0.0.1:{port}/root.zone")),
        ..Default::default()
    });
    assert!(
        plain
            .refresh(rootguard::time::Timestamp::from_second(1_800_000_000))
            .await
            .1
            .unwrap()
            .contains("only https://")
    );
    drop(server);
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![crate::support::asynch(
        "https_source::https_zone_source",
        https_zone_source,
    )]
}

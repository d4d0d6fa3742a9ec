import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real nginx serving a directory on 127.0.0.1 (a free port), optionally over TLS with a test CA,
/// with mutual TLS, with HTTP basic auth, and with extra nginx snippets. Stops on `stop()` or
/// deinit and removes its own temporary files (never `root`). Keep it alive for the whole test,
/// e.g. with `defer { server.stop() }`.
public final class StaticServer: @unchecked Sendable {
    /// A user for HTTP basic authentication.
    public struct BasicAuth: Sendable {
        /// The user name.
        public var username: String
        /// The password.
        public var password: String
        /// Creates a user.
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    /// How the server is set up.
    public struct Options: Sendable {
        /// Serve HTTPS with a certificate from a fresh test CA (`caFile`).
        public var tls: Bool
        /// Require a client certificate signed by the test CA (`ssl_verify_client on`; implies `tls`).
        public var requireClientCertificate: Bool
        /// Require this user with HTTP basic auth for everything.
        public var basicAuth: BasicAuth?
        /// Extra nginx directives inside the `server` block, e.g.
        /// `location = /old.tgz { return 301 http://localhost:{{PORT}}/new.tgz; }`;
        /// `{{PORT}}` is replaced by the server's port.
        public var snippets: [String]

        /// Creates options; the default is plain HTTP without auth.
        public init(tls: Bool = false, requireClientCertificate: Bool = false, basicAuth: BasicAuth? = nil,
                    snippets: [String] = []) {
            self.tls = tls || requireClientCertificate
            self.requireClientCertificate = requireClientCertificate
            self.basicAuth = basicAuth
            self.snippets = snippets
        }
    }

    /// The directory being served.
    public let root: String
    /// The port on 127.0.0.1.
    public let port: Int
    /// "https" with TLS, else "http".
    public let scheme: String
    /// The test CA and certificates when TLS is on.
    public let pki: TestPKI?
    /// The CA file to trust when TLS is on.
    public var caFile: String? { pki?.caFile }
    private let work: TemporaryDirectory
    private let process: ChildProcess

    /// The nginx binary used.
    public static let nginxPath = "/usr/sbin/nginx"

    /// Starts nginx serving `root` and returns once it accepts connections.
    public init(root: String, options: Options = Options()) throws {
        self.root = root
        scheme = options.tls ? "https" : "http"
        let work = try TemporaryDirectory(prefix: "chartsync-nginx")
        self.work = work
        for name in ["tmp", "logs"] {
            try FileManager.default.createDirectory(atPath: work.file(name), withIntermediateDirectories: true)
        }
        pki = options.tls ? try TestPKI.generate(in: work.path) : nil
        if let auth = options.basicAuth {
            let hash = try runCommand(["openssl", "passwd", "-apr1", auth.password])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try "\(auth.username):\(hash)\n".write(toFile: work.file("htpasswd"), atomically: false, encoding: .utf8)
        }
        var lastError = ""
        for _ in 0..<5 {
            let port = try LoopbackPort.candidate()
            let config = StaticServer.configuration(root: root, port: port, work: work.path, pki: pki, options: options)
            try config.write(toFile: work.file("nginx.conf"), atomically: false, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: work.file("nginx.pid"))
            let child = try ChildProcess(
                ["python3", supportScriptsDirectory + "/supervise.py", "--cleanup", work.path, StaticServer.nginxPath,
                 "-p", work.path, "-c", work.file("nginx.conf"), "-e", work.file("logs/error.log")],
                outputPath: work.file("logs/output.log"))
            if StaticServer.waitUntilReady(child: child, port: port, pidFile: work.file("nginx.pid")) {
                self.port = port
                process = child
                return
            }
            child.terminate(grace: 0.5)
            lastError = (try? String(contentsOfFile: work.file("logs/error.log"), encoding: .utf8)) ?? ""
            lastError += (try? String(contentsOfFile: work.file("logs/output.log"), encoding: .utf8)) ?? ""
            guard lastError.contains("Address already in use") else { break }
        }
        work.remove()
        throw SupportError("nginx did not start: \(lastError)")
    }

    deinit { stop() }

    /// The base URL, e.g. `https://127.0.0.1:23456`, with `host` instead of 127.0.0.1 if given.
    public func baseURL(host: String = "127.0.0.1") -> String { "\(scheme)://\(host):\(port)" }

    /// The URL of `path` (with or without a leading slash), on `host` (127.0.0.1 or localhost).
    public func url(_ path: String, host: String = "127.0.0.1") -> String {
        baseURL(host: host) + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// The access log so far, one line per request: `METHOD URI STATUS USER HOST`. nginx writes a
    /// line just after the response, so a client may see the response first: pass `atLeast` to wait
    /// (up to `timeout` seconds) for that many lines.
    public func accessLog(atLeast count: Int = 0, timeout: Double = 5) -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let text = (try? String(contentsOfFile: work.file("logs/access.log"), encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").map(String.init)
            if lines.count >= count || Date() >= deadline { return lines }
            usleep(10_000)
        }
    }

    /// Stops nginx and removes the server's temporary files; idempotent.
    public func stop() {
        process.terminate()
        work.remove()
    }

    private static func waitUntilReady(child: ChildProcess, port: Int, pidFile: String) -> Bool {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            guard child.isRunning else { return false }
            if FileManager.default.fileExists(atPath: pidFile) && LoopbackPort.accepts(port) { return true }
            usleep(20_000)
        }
        return false
    }

    private static func configuration(root: String, port: Int, work: String, pki: TestPKI?,
                                      options: Options) -> String {
        var server: [String] = []
        if let pki {
            server += [
                "listen 127.0.0.1:\(port) ssl;",
                "ssl_certificate \(pki.serverCertFile);",
                "ssl_certificate_key \(pki.serverKeyFile);",
                "ssl_protocols TLSv1.2 TLSv1.3;",
            ]
            if options.requireClientCertificate {
                server += ["ssl_client_certificate \(pki.caFile);", "ssl_verify_client on;"]
            }
        } else {
            server.append("listen 127.0.0.1:\(port);")
        }
        server += ["server_name localhost 127.0.0.1;", "root \(root);"]
        if options.basicAuth != nil {
            server += ["auth_basic \"chartsync test\";", "auth_basic_user_file \(work)/htpasswd;"]
        }
        server += options.snippets.map { $0.replacingOccurrences(of: "{{PORT}}", with: String(port)) }
        return """
        daemon off;
        master_process off;
        worker_processes 1;
        pid \(work)/nginx.pid;
        error_log \(work)/logs/error.log warn;
        events { worker_connections 256; }
        http {
            log_format chartsync '$request_method $request_uri $status $remote_user $http_host';
            access_log \(work)/logs/access.log chartsync;
            client_body_temp_path \(work)/tmp/body;
            proxy_temp_path \(work)/tmp/proxy;
            fastcgi_temp_path \(work)/tmp/fastcgi;
            uwsgi_temp_path \(work)/tmp/uwsgi;
            scgi_temp_path \(work)/tmp/scgi;
            types { application/x-yaml yaml yml; application/gzip tgz gz; text/plain txt; }
            default_type application/octet-stream;
            sendfile on;
            server {
                \(server.joined(separator: "\n        "))
            }
        }

        """
    }
}

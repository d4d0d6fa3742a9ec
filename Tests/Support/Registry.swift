import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real container registry (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1 and a
/// free port, storing in a temporary directory: anonymous, with htpasswd basic auth (bcrypt
/// entries from `htpasswd -B`), or with token auth backed by a `RegistryTokenServer`; plain HTTP
/// or HTTPS with a fresh `TestPKI`. Images are pushed over the distribution API by
/// `Scripts/registry-push.py` (independent of chartsync's code). Stops on `stop()` or deinit and
/// removes its files; keep it alive for the whole test (`defer { registry.stop() }`).
public final class RegistryServer: @unchecked Sendable {
    /// Who may use the registry.
    public enum Authentication: Sendable {
        /// Anyone may pull and push.
        case none
        /// HTTP basic auth: these users may pull and push, nobody else anything.
        case basic([StaticServer.BasicAuth])
        /// Bearer tokens from a token service: these users may pull and push, anonymous clients
        /// may pull when `anonymousPull`. `tokenField` is the JSON key of the token in the
        /// service's answers: "token", "access_token" or "both".
        case token(users: [StaticServer.BasicAuth], anonymousPull: Bool, tokenField: String = "token")
    }

    /// How the registry is set up.
    public struct Options: Sendable {
        /// Who may use it.
        public var authentication: Authentication
        /// Serve HTTPS (and the token service too) with a certificate from a fresh test CA.
        public var tls: Bool
        /// Keep the registry's storage in /dev/shm (tmpfs) when there is one: thousands of tags
        /// (`addTags`) are made and removed in milliseconds instead of seconds on a busy disk.
        public var memoryStorage: Bool
        /// Require a client certificate signed by the test CA (`http.tls.clientcas`; implies `tls`).
        public var clientCertificates: Bool

        /// Creates options; the default is anonymous plain HTTP.
        public init(authentication: Authentication = .none, tls: Bool = false, memoryStorage: Bool = false,
                    clientCertificates: Bool = false) {
            self.authentication = authentication
            self.tls = tls || clientCertificates
            self.memoryStorage = memoryStorage
            self.clientCertificates = clientCertificates
        }
    }

    /// The port on 127.0.0.1.
    public let port: Int
    /// "https" with TLS, else "http".
    public let scheme: String
    /// The test CA and certificates when TLS is on.
    public let pki: TestPKI?
    /// The CA file to trust when TLS is on.
    public var caFile: String? { pki?.caFile }
    /// The token service, for `.token` authentication.
    public let tokenServer: RegistryTokenServer?
    /// The user pushes are made as (the first configured user), if any.
    public let pusher: StaticServer.BasicAuth?
    private let work: TemporaryDirectory
    /// Where the registry stores blobs and manifests.
    private let storage: TemporaryDirectory
    private let process: ChildProcess

    /// The registry binary used.
    public static let registryPath = "/usr/bin/docker-registry"

    /// Starts the registry and returns once it accepts connections.
    public init(options: Options = Options()) throws {
        scheme = options.tls ? "https" : "http"
        let work = try TemporaryDirectory(prefix: "chartsync-registry")
        self.work = work
        let shm = "/dev/shm"
        storage = options.memoryStorage && FileManager.default.isWritableFile(atPath: shm)
            ? try TemporaryDirectory(prefix: "chartsync-registry-storage", base: shm) : try TemporaryDirectory(prefix: "chartsync-registry-storage")
        try FileManager.default.createDirectory(atPath: work.file("logs"), withIntermediateDirectories: true)
        let pki = options.tls ? try TestPKI.generate(in: work.path) : nil
        self.pki = pki
        var authSection = ""
        switch options.authentication {
        case .none:
            pusher = nil
            tokenServer = nil
        case let .basic(users):
            pusher = users.first
            tokenServer = nil
            var lines = ""
            for user in users {
                // -i reads the password from stdin; -B is bcrypt, the only hash the registry accepts.
                lines += try runCommand(["htpasswd", "-inB", user.username], input: user.password)
                    .trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
            }
            try lines.write(toFile: work.file("htpasswd"), atomically: false, encoding: .utf8)
            authSection = """
            auth:
              htpasswd:
                realm: chartsync-test
                path: \(work.file("htpasswd"))

            """
        case let .token(users, anonymousPull, tokenField):
            pusher = users.first
            let server = try RegistryTokenServer(
                directory: work.path, users: users, anonymousPull: anonymousPull, tokenField: tokenField, pki: pki)
            tokenServer = server
            authSection = """
            auth:
              token:
                realm: \(server.realm)
                service: \(RegistryTokenServer.service)
                issuer: \(RegistryTokenServer.issuer)
                rootcertbundle: \(server.signingCertFile)

            """
        }
        var lastError = ""
        for _ in 0..<5 {
            let port = try LoopbackPort.candidate()
            var tlsSection = ""
            if let pki {
                tlsSection = """
                  tls:
                    certificate: \(pki.serverCertFile)
                    key: \(pki.serverKeyFile)
                \(options.clientCertificates ? "    clientcas:\n      - \(pki.caFile)\n" : "")
                """
            }
            let config = """
            version: 0.1
            log:
              level: info
              accesslog:
                disabled: false
            storage:
              filesystem:
                rootdirectory: \(storage.path)
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
              secret: chartsync-test-secret
            \(tlsSection)\(authSection)
            """
            try config.write(toFile: work.file("config.yml"), atomically: false, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: work.file("logs/registry.log"))
            let child = try ChildProcess(
                ["python3", supportScriptsDirectory + "/supervise.py", "--cleanup", work.path, "--cleanup", storage.path,
                 RegistryServer.registryPath, "serve", work.file("config.yml")],
                outputPath: work.file("logs/registry.log"))
            if RegistryServer.waitUntilReady(child: child, port: port) {
                self.port = port
                process = child
                return
            }
            child.terminate(grace: 0.5)
            lastError = (try? String(contentsOfFile: work.file("logs/registry.log"), encoding: .utf8)) ?? ""
            guard lastError.contains("address already in use") else { break }
        }
        tokenServer?.stop()
        work.remove()
        storage.remove()
        throw SupportError("docker-registry did not start: \(lastError.suffix(4000))")
    }

    deinit { stop() }

    /// The registry's name in image references: `127.0.0.1:<port>`.
    public var name: String { "127.0.0.1:\(port)" }

    /// The base URL, e.g. `https://127.0.0.1:23456`.
    public var baseURL: String { "\(scheme)://127.0.0.1:\(port)" }

    /// An image reference on this registry: `127.0.0.1:<port>/<repository>:<tag>`.
    public func reference(_ repository: String, tag: String) -> String { "\(name)/\(repository):\(tag)" }

    /// Pushes a one-layer image (config blob, gzip layer, manifest in Docker v2 or OCI format)
    /// under `tag`, as `user` (default: the first configured user); returns what the registry
    /// reported, with the config and layer descriptors. Different `seed`s make different images.
    /// `layerSize` makes the layer that many pseudo-random bytes (incompressible); `baseSeed` puts a
    /// base layer before it, the same blob in every image pushed with that base seed.
    @discardableResult
    public func push(_ repository: String, tag: String, format: PushedImage.Format = .docker, seed: Int = 1,
                     layerSize: Int = 0, baseSeed: Int? = nil, as user: StaticServer.BasicAuth? = nil) throws -> PushedImage {
        try runPush(repository, tag: tag, format: format, seed: seed, index: false, as: user,
                    extra: Self.layerArguments(layerSize: layerSize, baseSeed: baseSeed))
    }

    /// Pushes two single-platform images (linux/amd64, linux/arm64) by digest and an image index
    /// (OCI) or manifest list (Docker) naming them under `tag`; returns the index's digest and
    /// its children's. `layerSize` and `baseSeed` shape each platform image as for `push`.
    @discardableResult
    public func pushIndex(_ repository: String, tag: String, format: PushedImage.Format = .oci, seed: Int = 1,
                          layerSize: Int = 0, baseSeed: Int? = nil, as user: StaticServer.BasicAuth? = nil) throws -> PushedImage {
        try runPush(repository, tag: tag, format: format, seed: seed, index: true, as: user,
                    extra: Self.layerArguments(layerSize: layerSize, baseSeed: baseSeed))
    }

    private static func layerArguments(layerSize: Int, baseSeed: Int?) -> [String] {
        (layerSize > 0 ? ["--layer-size", String(layerSize)] : []) + (baseSeed.map { ["--base-seed", String($0)] } ?? [])
    }

    /// Pushes the Helm chart `chart` (a .tgz) as `helm push` does, under each of `tags` (at least
    /// one; write `+` of a version as `_`): an OCI manifest with the Helm config media type and the
    /// .tgz as its one layer; `mediaTypeField: false` leaves `mediaType` out of the document (the
    /// registry serves it with the Content-Type of the push). Returns the manifest's digest, size
    /// and its config and layer descriptors. `wrappedInIndex` tags an OCI image index naming the
    /// chart's manifest instead (as Helm 4 may push); its `manifests` then hold that manifest's digest.
    @discardableResult
    public func pushChart(_ repository: String, tags: [String], chart: String, mediaTypeField: Bool = true,
                          wrappedInIndex: Bool = false, as user: StaticServer.BasicAuth? = nil) throws -> PushedImage {
        precondition(!tags.isEmpty, "a chart push needs a tag")
        var extra = ["--chart", chart]
        for tag in tags.dropFirst() { extra += ["--also-tag", tag] }
        if !mediaTypeField { extra.append("--no-media-type") }
        return try runPush(repository, tag: tags[0], format: .oci, seed: 1, index: wrappedInIndex, as: user, extra: extra)
    }

    /// Tags the manifest `existing` names with every one of `tags` as well (write `+` as `_`), by
    /// writing the tag links into the registry's storage (distribution 2.8's filesystem layout:
    /// `_manifests/tags/<tag>/current/link` and `index/sha256/<hex>/link`), which the registry then
    /// serves like pushed tags. A PUT per tag costs tens of milliseconds on this registry (each
    /// link file is fsync'ed); this makes a real chart's hundreds of versions take milliseconds.
    public func addTags(_ repository: String, tags: [String], like existing: String) throws {
        let manifests = storage.file("docker/registry/v2/repositories/\(repository)/_manifests")
        let digest = try String(contentsOfFile: manifests + "/tags/\(existing)/current/link", encoding: .utf8)
        guard digest.hasPrefix("sha256:"), digest.count == 71 else {
            throw SupportError("tag \(existing) of \(repository) links to '\(digest)'")
        }
        let others = tags.filter { $0 != existing }
        for tag in others {
            precondition(!tag.isEmpty && !tag.contains("/") && !tag.contains("+"), "not a tag: \(tag)")
        }
        // One process for all (Foundation's file calls cost milliseconds each).
        let script = """
            import os, sys
            root, digest = sys.argv[1], sys.argv[2]
            for tag in sys.argv[3:]:
                for directory in (os.path.join(root, tag, "current"), os.path.join(root, tag, "index", "sha256", digest[7:])):
                    os.makedirs(directory, exist_ok=True)
                    with open(os.path.join(directory, "link"), "w") as link:
                        link.write(digest)
            """
        try runCommand(["python3", "-c", script, manifests + "/tags", digest] + others)
    }

    private func runPush(_ repository: String, tag: String, format: PushedImage.Format, seed: Int, index: Bool,
                         as user: StaticServer.BasicAuth?, extra: [String] = []) throws -> PushedImage {
        var arguments = ["python3", supportScriptsDirectory + "/registry-push.py", "--url", baseURL,
                         "--repository", repository, "--tag", tag, "--format", format.rawValue, "--seed", String(seed)]
        if index { arguments.append("--index") }
        arguments += extra
        if let caFile { arguments += ["--cafile", caFile] }
        var environment: [String: String] = [:]
        if let user = user ?? pusher {
            arguments += ["--user", user.username]
            environment["REGISTRY_PUSH_PASSWORD"] = user.password
        }
        let output: String
        do {
            output = try runCommand(["env"] + environment.map { "\($0.key)=\($0.value)" } + arguments)
        } catch {
            throw SupportError("push of \(repository):\(tag) failed: \(error)\nregistry log:\n\(log().suffix(3000))")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let digest = object["digest"] as? String, let mediaType = object["mediaType"] as? String,
              let size = object["size"] as? Int else {
            throw SupportError("registry-push.py printed \(output)")
        }
        func descriptor(_ value: Any?) -> PushedImage.Blob? {
            guard let object = value as? [String: Any], let digest = object["digest"] as? String,
                  let mediaType = object["mediaType"] as? String, let size = object["size"] as? Int else { return nil }
            return PushedImage.Blob(mediaType: mediaType, digest: digest, size: size)
        }
        return PushedImage(digest: digest, mediaType: mediaType, size: size,
                           manifests: object["manifests"] as? [String] ?? [],
                           config: descriptor(object["config"]),
                           layers: (object["layers"] as? [Any] ?? []).compactMap(descriptor))
    }

    /// The registry's log so far (startup, requests, errors).
    public func log() -> String {
        (try? String(contentsOfFile: work.file("logs/registry.log"), encoding: .utf8)) ?? ""
    }

    /// Stops the registry (and its token service) and removes its files; idempotent.
    public func stop() {
        process.terminate()
        tokenServer?.stop()
        work.remove()
        storage.remove()
    }

    private static func waitUntilReady(child: ChildProcess, port: Int) -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            guard child.isRunning else { return false }
            if LoopbackPort.accepts(port) { return true }
            usleep(20_000)
        }
        return false
    }
}

/// What a push made, as the registry reported it.
public struct PushedImage: Sendable, Equatable {
    /// The manifest formats a push can use.
    public enum Format: String, Sendable {
        /// Docker image manifest v2 schema 2 (manifest list for an index).
        case docker
        /// OCI image manifest (OCI image index for an index).
        case oci
    }

    /// The manifest digest (`Docker-Content-Digest` of the PUT, checked against the bytes sent).
    public let digest: String
    /// The manifest's media type.
    public let mediaType: String
    /// The manifest's size in bytes.
    public let size: Int
    /// For an index: the digests of the platform manifests it names.
    public let manifests: [String]
    /// For a single image or a chart: the config blob.
    public var config: Blob? = nil
    /// For a single image or a chart: the layer blobs.
    public var layers: [Blob] = []

    /// A blob a push wrote: its media type, digest and size.
    public struct Blob: Sendable, Equatable {
        /// The descriptor's media type.
        public let mediaType: String
        /// `sha256:<hex>` of the bytes.
        public let digest: String
        /// The byte count.
        public let size: Int
    }
}

/// The token service of a token-auth `RegistryServer` (Python, `Scripts/registry-token-server.py`):
/// signs RS256 JWTs with a fresh certificate that the registry trusts (its `rootcertbundle`),
/// granting users pull and push and anonymous clients pull (when allowed); logs every request.
public final class RegistryTokenServer: @unchecked Sendable {
    /// The `service` the registry and its tokens name.
    public static let service = "chartsync-test-registry"
    /// The `iss` of the tokens.
    public static let issuer = "chartsync-test-issuer"

    /// A request the token service received.
    public struct Request: Sendable, Decodable, Equatable {
        /// The path, `/token`.
        public let path: String
        /// The `service` query parameter.
        public let service: String?
        /// The `scope` query parameters.
        public let scopes: [String]
        /// The user who authenticated, nil for anonymous requests (and refused credentials).
        public let user: String?
        /// Whether the request carried an Authorization header at all.
        public let authorized: Bool
    }

    /// The port on 127.0.0.1.
    public let port: Int
    /// The realm URL the registry sends clients to.
    public let realm: String
    /// The certificate whose key signs the tokens.
    public let signingCertFile: String
    private let logFile: String
    private let process: ChildProcess

    /// Starts the service (HTTPS with `pki`'s server certificate when given) in `directory`.
    public init(directory: String, users: [StaticServer.BasicAuth], anonymousPull: Bool, tokenField: String = "token",
                pki: TestPKI? = nil) throws {
        let key = directory + "/token-signing.key"
        signingCertFile = directory + "/token-signing.pem"
        logFile = directory + "/token-requests.log"
        try runCommand(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", signingCertFile, "-days", "2", "-subj", "/CN=chartsync test token signer"])
        var config: [String: Any] = [
            "signing_key": key, "signing_cert": signingCertFile, "issuer": RegistryTokenServer.issuer,
            "service": RegistryTokenServer.service, "anonymous_pull": anonymousPull, "token_field": tokenField,
            "users": Dictionary(users.map { ($0.username, $0.password) }, uniquingKeysWith: { a, _ in a }),
            "log": logFile,
        ]
        if let pki {
            config["tls_cert"] = pki.serverCertFile
            config["tls_key"] = pki.serverKeyFile
        }
        let configFile = directory + "/token-server.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configFile))
        process = try ChildProcess(
            ["python3", "-u", supportScriptsDirectory + "/registry-token-server.py", "--config", configFile],
            captureStdout: true)
        let line = try process.readLine(timeout: 20)
        guard line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            process.terminate()
            throw SupportError("registry-token-server.py said '\(line)' instead of its port")
        }
        self.port = port
        realm = "\(pki == nil ? "http" : "https")://127.0.0.1:\(port)/token"
    }

    deinit { stop() }

    /// The requests received so far, in order.
    public func requests() throws -> [Request] {
        guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            try JSONDecoder().decode(Request.self, from: Data(line.utf8))
        }
    }

    /// Stops the service; idempotent.
    public func stop() {
        process.terminate(grace: 2)
    }
}

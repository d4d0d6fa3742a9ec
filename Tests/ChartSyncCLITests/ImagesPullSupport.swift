import ChartSyncTestSupport
import Foundation
import Testing

/// A project for `chartsync images --pull`: no charts, the images named by the chart list's
/// images.extra (with a digest when the test pins them itself), every registry plain HTTP.
final class ImagesPullProject {
    let project: PullProject
    var path: String { project.path }
    var store: String { project.path + "/images" }

    init() throws {
        project = try PullProject(chartList: "charts: []\n")
        // versions.lock for no charts: what the images scan starts from.
        let pulled = try project.pull()
        guard pulled.status == 0 else { throw SupportError("pull of an empty chart list: \(pulled.stderr)") }
    }

    /// Sets images.extra, images.registries (plain HTTP) and images.platforms.
    func setImages(_ images: [String], hosts: [String], platforms: [String] = []) throws {
        var text = "charts: []\nimages:\n  extra:\n" + images.map { "    - \($0)\n" }.joined()
        text += "  registries:\n" + Set(hosts).sorted().map { "    - host: \($0)\n      plainHTTP: true\n" }.joined()
        if !platforms.isEmpty { text += "  platforms:\n" + platforms.map { "    - \($0)\n" }.joined() }
        try project.setChartList(text)
    }

    /// `chartsync images --pull` with `arguments`, two retries.
    func pull(_ arguments: [String] = []) throws -> CLI.Run {
        try CLI.run(["images", "--pull", "--retries", "2"] + arguments, in: path)
    }

    /// index.json's entries: reference -> (mediaType, digest, size, annotations).
    func index() throws -> [String: StoreEntry] {
        let data = try Data(contentsOf: URL(fileURLWithPath: store + "/index.json"))
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let manifests = try #require(object["manifests"] as? [[String: Any]])
        var entries: [String: StoreEntry] = [:]
        for descriptor in manifests {
            let annotations = descriptor["annotations"] as? [String: String] ?? [:]
            let name = try #require(annotations["org.opencontainers.image.ref.name"])
            #expect(entries[name] == nil, "\(name) named twice")
            entries[name] = StoreEntry(mediaType: descriptor["mediaType"] as? String ?? "", digest: descriptor["digest"] as? String ?? "",
                                       size: descriptor["size"] as? Int ?? -1, annotations: annotations)
        }
        return entries
    }

    func indexBytes() throws -> Data? {
        FileManager.default.contents(atPath: store + "/index.json")
    }

    /// The digests of the files in blobs/sha256, each checked to hash to its name.
    func blobs() throws -> Set<String> {
        let directory = store + "/blobs/sha256"
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        var digests: Set<String> = []
        for name in names {
            #expect(try sha256Hex(of: directory + "/" + name) == name, "blobs/sha256/\(name) does not hash to its name")
            digests.insert("sha256:" + name)
        }
        return digests
    }

    /// The bytes of a blob, nil when absent.
    func blob(_ digest: String) -> Data? {
        FileManager.default.contents(atPath: store + "/blobs/sha256/" + digest.dropFirst("sha256:".count))
    }

    /// Every blob the image whose manifest or index is `digest` needs (itself included), worked
    /// out from the stored JSON documents.
    func closure(_ digest: String) throws -> Set<String> {
        var found: Set<String> = [digest]
        let data = try #require(blob(digest), "\(digest) missing from the store")
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        for child in object["manifests"] as? [[String: Any]] ?? [] {
            found.formUnion(try closure(try #require(child["digest"] as? String)))
        }
        if let config = object["config"] as? [String: Any], let d = config["digest"] as? String { found.insert(d) }
        for layer in object["layers"] as? [[String: Any]] ?? [] {
            if let d = layer["digest"] as? String { found.insert(d) }
        }
        return found
    }

    /// The sum of the sizes of `digests` in the store.
    func size(_ digests: Set<String>) -> Int {
        digests.reduce(0) { $0 + (blob($1)?.count ?? 0) }
    }

    /// Names under images/ that are temporary files.
    func partials() throws -> [String] {
        guard FileManager.default.fileExists(atPath: store) else { return [] }
        return try runCommand(["find", store, "-name", "*partial*"]).split(separator: "\n").map(String.init)
    }
}

/// One entry of index.json.
struct StoreEntry: Equatable {
    let mediaType: String
    let digest: String
    let size: Int
    let annotations: [String: String]
}

/// The GET requests in a docker-registry log (its access log lines), as `path status`.
func registryGets(_ log: String) -> [String] {
    log.split(separator: "\n").compactMap { line -> String? in
        guard line.hasPrefix("127.0.0.1 "), let start = line.range(of: "\"GET ") else { return nil }
        let rest = line[start.upperBound...]
        guard let end = rest.range(of: " HTTP/1.1\" ") else { return nil }
        return String(rest[..<end.lowerBound]) + " " + rest[end.upperBound...].prefix(3)
    }
}

/// The SHA-256 of `bytes` as `sha256:<hex>`, by sha256sum.
func digestOf(_ bytes: [UInt8]) throws -> String {
    let directory = try TemporaryDirectory(prefix: "chartsync-digest")
    return "sha256:" + (try sha256Hex(of: try directory.write("b", bytes)))
}

/// A one-or-more-layer OCI image built in Swift, for a `FaultServer` standing in for a registry.
struct FakeImage {
    static let manifestType = "application/vnd.oci.image.manifest.v1+json"
    let repository: String
    let config: [UInt8]
    let layers: [[UInt8]]
    let manifest: [UInt8]
    let digest: String
    let configDigest: String
    let layerDigests: [String]

    init(repository: String, seed: UInt64, layerSizes: [Int] = [3000]) throws {
        self.repository = repository
        config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"seed\":\(seed)}".utf8)
        layers = layerSizes.enumerated().map { testBytes(count: $0.element, seed: seed &* 31 &+ UInt64($0.offset) &+ 1) }
        configDigest = try digestOf(config)
        layerDigests = try layers.map(digestOf)
        let layerJSON = zip(layers, layerDigests).map {
            "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"\($0.1)\",\"size\":\($0.0.count)}"
        }
        manifest = Array(("{\"schemaVersion\":2,\"mediaType\":\"\(Self.manifestType)\",\"config\":{\"mediaType\":"
            + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"\(configDigest)\",\"size\":\(config.count)},"
            + "\"layers\":[" + layerJSON.joined(separator: ",") + "]}").utf8)
        digest = try digestOf(manifest)
    }

    func blobPath(_ digest: String) -> String { "/v2/\(repository)/blobs/\(digest)" }
    var manifestPath: String { "/v2/\(repository)/manifests/\(digest)" }

    /// Serves /v2/, the manifest by digest and every blob normally; `layer` overrides the plan of layer 0.
    func serve(on server: FaultServer, layer: [FaultResponse]? = nil) throws {
        try server.plan("/v2/", .ok(Array("{}".utf8)))
        try server.plan(manifestPath, .ok(manifest, headers: ["Content-Type": Self.manifestType, "Docker-Content-Digest": digest]))
        try server.plan(blobPath(configDigest), .ok(config))
        for (index, (bytes, digest)) in zip(layers, layerDigests).enumerated() {
            try server.plan(blobPath(digest), index == 0 && layer != nil ? layer! : [.ok(bytes)])
        }
    }

    /// The pinned reference on `server`.
    func reference(_ server: FaultServer, tag: String = "1.0") -> String {
        "127.0.0.1:\(server.port)/\(repository):\(tag)@\(digest)"
    }
}

/// Waits until the process catches SIGINT and SIGTERM (SigCgt in /proc/PID/status: its trap is
/// armed); every interrupt test waits for it before signalling.
func waitUntilSignalsTrapped(_ child: ChildProcess, timeout: Double = 60) throws {
    let wanted = UInt64(1) << (UInt64(SIGINT) - 1) | UInt64(1) << (UInt64(SIGTERM) - 1)
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let status = (try? String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8)) ?? ""
        let caught = status.split(separator: "\n").first { $0.hasPrefix("SigCgt:") }
            .flatMap { UInt64($0.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16) } ?? 0
        if caught & wanted == wanted { return }
        guard child.isRunning else { throw SupportError("chartsync exited before it trapped SIGINT and SIGTERM") }
        guard Date() < deadline else { throw SupportError("chartsync did not trap SIGINT and SIGTERM within \(Int(timeout)) s") }
        usleep(2_000)
    }
}

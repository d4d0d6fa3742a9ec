import ChartSyncTestSupport
import Foundation
import Testing

/// A project to push: the example charts pulled into charts/external, a custom chart tarball in
/// charts/custom, and images pulled with `images --pull` from a source registry on 127.0.0.1: an
/// OCI image and a Docker v2 image sharing their config and layer (so a push mounts them), and a
/// multi-platform OCI index.
final class PushProject {
    let project: PullProject
    let source: RegistryServer
    var path: String { project.path }
    /// The source images: reference -> digest (as the source registry reported it).
    let images: [String: String]
    /// Every chart pushed: name, version, file under the project, sha256 hex of the file.
    let charts: [(name: String, version: String, file: String, sha256: String)]

    /// With `largeLayer`, one more image (`team/big:1.0`) whose layer has that many bytes.
    init(customChart: Bool = true, largeLayer: Int = 0) throws {
        source = try RegistryServer()
        let oci = try source.push("team/oci-app", tag: "1.0", format: .oci, seed: 1)
        let docker = try source.push("team/docker-app", tag: "1.0", format: .docker, seed: 1)
        let multi = try source.pushIndex("team/multi", tag: "2.0", format: .oci, seed: 2)
        var images = [source.reference("team/oci-app", tag: "1.0"): oci.digest,
                      source.reference("team/docker-app", tag: "1.0"): docker.digest,
                      source.reference("team/multi", tag: "2.0"): multi.digest]
        if largeLayer > 0 {
            images[source.reference("team/big", tag: "1.0")] = try source.push("team/big", tag: "1.0", format: .oci, seed: 3,
                                                                               layerSize: largeLayer).digest
        }
        self.images = images
        let list = try String(contentsOfFile: Fixtures.packageRoot + "/chartsync.yaml", encoding: .utf8)
            .replacingOccurrences(of: "url: examples/repo", with: "url: \(Fixtures.packageRoot)/examples/repo")
            + """
            images:
              extra:
            \(images.keys.sorted().map { "    - \($0)\n" }.joined())  exclude:
                - docker.io/library/nginx
                - docker.io/library/busybox
              registries:
                - host: \(source.name)
                  plainHTTP: true

            """
        project = try PullProject(chartList: list)
        let pulled = try project.pull()
        guard pulled.status == 0 else { throw SupportError("pull: \(pulled.stderr)") }
        let imaged = try CLI.run(["images", "--pull"], in: project.path)
        guard imaged.status == 0 else { throw SupportError("images --pull: \(imaged.stderr)\n\(source.log().suffix(2000))") }
        var charts: [(String, String, String, String)] = []
        for (name, version) in [("hello-common", "2.0.1"), ("hello-web", "1.1.0"), ("hello-worker", "0.5.0")] {
            let file = "charts/external/\(name)-\(version).tgz"
            charts.append((name, version, file, try sha256Hex(of: project.path + "/" + file)))
        }
        if customChart {
            // A team chart with a build-metadata version: its tag is 0.3.0_build.7.
            let work = try TemporaryDirectory(prefix: "chartsync-custom")
            try work.write("site-config/Chart.yaml", Array("apiVersion: v2\nname: site-config\nversion: 0.3.0+build.7\ndescription: the site's own settings\n".utf8))
            try work.write("site-config/templates/cm.yaml", Array("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site\n".utf8))
            try FileManager.default.createDirectory(atPath: project.path + "/charts/custom", withIntermediateDirectories: true)
            try runCommand(["tar", "-czf", project.path + "/charts/custom/site-config-0.3.0+build.7.tgz", "-C", work.path, "site-config"])
            let file = "charts/custom/site-config-0.3.0+build.7.tgz"
            charts.append(("site-config", "0.3.0+build.7", file, try sha256Hex(of: project.path + "/" + file)))
        }
        self.charts = charts
    }

    /// images.lock's text.
    func imagesLock() throws -> String { try project.read("images.lock") }
}

/// Runs `chartsync push`.
func push(_ directory: String, _ arguments: [String], environment: [String: String] = [:]) throws -> CLI.Run {
    try CLI.run(["push", directory, "--retries", "2"] + arguments, in: directory, environment: environment)
}

/// The JSON document of a run.
func jsonObject(_ run: CLI.Run) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)\n\(run.stderr)")
}

/// The requests of a registry's access log (`METHOD PATH`), from `offset` on (a count of lines).
func registryRequests(_ registry: RegistryServer) -> [String] {
    let pattern = try! NSRegularExpression(pattern: "\"(GET|HEAD|POST|PUT|PATCH|DELETE) (\\S+) HTTP/")
    return registry.log().split(separator: "\n").compactMap { line -> String? in
        let text = String(line)
        guard let match = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let method = Range(match.range(at: 1), in: text), let path = Range(match.range(at: 2), in: text) else { return nil }
        return text[method] + " " + text[path]
    }
}

/// How skopeo and Helm reach a registry.
struct RegistryAccess {
    let registry: RegistryServer
    let username: String?
    let password: String?

    init(_ registry: RegistryServer) {
        self.registry = registry
        username = registry.pusher?.username
        password = registry.pusher?.password
    }

    /// The sha256 (`sha256:<hex>`) of the manifest `reference` (`REPOSITORY:TAG`) names, as
    /// `skopeo inspect --raw` reads it from the registry.
    func manifestDigest(_ reference: String) throws -> String {
        var arguments = ["skopeo", "inspect", "--raw"]
        if let caFile = registry.caFile {
            let certs = try TemporaryDirectory(prefix: "chartsync-certs")
            try FileManager.default.copyItem(atPath: caFile, toPath: certs.file("ca.crt"))
            arguments += ["--cert-dir", certs.path]
            return try run(arguments, reference, keeping: certs)
        }
        arguments.append("--tls-verify=false")
        return try run(arguments, reference, keeping: nil)
    }

    private func run(_ arguments: [String], _ reference: String, keeping _: TemporaryDirectory?) throws -> String {
        var arguments = arguments
        if let username, let password { arguments += ["--creds", username + ":" + password] }
        arguments.append("docker://\(registry.name)/\(reference)")
        let script = "\"$@\" | sha256sum | cut -c1-64"
        let hex = try runCommand(["sh", "-c", script, "sh"] + arguments).trimmingCharacters(in: .whitespacesAndNewlines)
        guard hex.count == 64 else { throw SupportError("skopeo inspect \(reference): \(hex)") }
        return "sha256:" + hex
    }

    /// Real Helm pulls each chart (`oci://HOST/PATH/NAME`, version); returns the sha256 hex of
    /// each file it wrote, or its error.
    func helmPull(_ charts: [(ref: String, version: String)]) throws -> [String] {
        try Helm.pullOCI(charts.map { Helm.OCIChart(ref: $0.ref, version: $0.version) }, plainHTTP: registry.caFile == nil,
                         caFile: registry.caFile, username: username, password: password)
    }
}

/// Writes an OCI image `reference` with one random layer of `layerSize` bytes into the image
/// layout at `root` (added to its index.json); returns the manifest's and the layer's digests.
@discardableResult
func addLayoutImage(root: String, reference: String, layerSize: Int) throws -> (manifest: String, layer: String) {
    let script = """
        import hashlib, json, os, sys
        root, ref, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
        os.makedirs(root + "/blobs/sha256", exist_ok=True)
        def put(data):
            hex = hashlib.sha256(data).hexdigest()
            with open(root + "/blobs/sha256/" + hex, "wb") as f:
                f.write(data)
            return {"digest": "sha256:" + hex, "size": len(data)}
        layer = put(os.urandom(size))
        config = put(json.dumps({"architecture": "amd64", "os": "linux",
                                 "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode())
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **config),
            "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar", **layer)]}).encode()
        top = put(manifest)
        path = root + "/index.json"
        index = json.load(open(path)) if os.path.exists(path) else {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
        index["manifests"].append(dict(mediaType="application/vnd.oci.image.manifest.v1+json",
                                       annotations={"org.opencontainers.image.ref.name": ref}, **top))
        with open(path, "w") as f:
            json.dump(index, f)
        with open(root + "/oci-layout", "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        print(top["digest"], layer["digest"])
        """
    let out = try runCommand(["python3", "-c", script, root, reference, String(layerSize)])
    let parts = out.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    return (parts[0], parts[1])
}

/// The sha256 (`sha256:<hex>`) of the blob `digest` of `repository` as the registry serves it (plain HTTP, anonymous).
func servedBlobDigest(_ registry: RegistryServer, repository: String, digest: String) throws -> String {
    let hex = try runCommand(["sh", "-c", "curl -sfL \"$0\" | sha256sum | cut -c1-64",
                              registry.baseURL + "/v2/" + repository + "/blobs/" + digest])
        .trimmingCharacters(in: .whitespacesAndNewlines)
    return "sha256:" + hex
}

/// A delivery made without network: hello-web from the package's charts/external with its
/// versions.lock entry, a chart directory in charts/custom, and one OCI image in images/.
final class SmallDelivery {
    let directory: TemporaryDirectory
    var path: String { directory.path }
    /// An empty HOME and DOCKER_CONFIG-less environment, so no stored login is found by accident.
    let home: TemporaryDirectory
    /// The image's reference and manifest digest.
    let image: (reference: String, digest: String)

    init() throws {
        directory = try TemporaryDirectory(prefix: "chartsync-small-delivery")
        home = try TemporaryDirectory(prefix: "chartsync-home")
        let lock = try String(contentsOfFile: Fixtures.packageRoot + "/versions.lock", encoding: .utf8)
        let blocks = lock.components(separatedBy: "\n  - name: ")
        guard let web = blocks.first(where: { $0.hasPrefix("hello-web\n") }) else { throw SupportError("no hello-web in versions.lock") }
        try directory.write("versions.lock", Array((blocks[0] + "\n  - name: " + web.trimmingCharacters(in: .newlines) + "\n").utf8))
        try FileManager.default.createDirectory(atPath: directory.file("charts/external"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.packageRoot + "/charts/external/hello-web-1.1.0.tgz",
                                         toPath: directory.file("charts/external/hello-web-1.1.0.tgz"))
        try directory.write("charts/custom/site-config/Chart.yaml", Array("apiVersion: v2\nname: site-config\nversion: 0.1.0\n".utf8))
        try directory.write("charts/custom/site-config/templates/cm.yaml",
                            Array("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site\n".utf8))
        let reference = "source.example:5000/team/app:1.0"
        let digest = try addLayoutImage(root: directory.file("images"), reference: reference, layerSize: 4096).manifest
        image = (reference, digest)
    }

    /// The environment of a run: HOME empty, then `extra`.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": home.path].merging(extra) { $1 }
    }
}

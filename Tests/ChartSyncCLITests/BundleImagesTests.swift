import ChartSyncTestSupport
import Foundation
import Testing

/// Issue 13: the image store (`images/`, filled by `images --pull` from a real registry on
/// 127.0.0.1) travels in the bundle, is proven by `verify`, extracted to `DIR/images/`, shown by
/// `inspect`, and checked by the gate.
@Suite(.serialized) struct BundleImagesTests {
    /// A project whose images/ holds an OCI image, an OCI index (two platforms) and a Docker v2 image.
    struct Store {
        let project: PullProject
        let registry: RegistryServer
        let app: String
        let multi: String
        let legacy: String
        let appImage: PushedImage
        let multiImage: PushedImage

        /// The app image's manifest as the store holds it.
        func appManifest() throws -> [String: Any] {
            let path = project.path + "/images/blobs/sha256/" + appImage.digest.dropFirst("sha256:".count)
            return try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        }

        /// The app image's layer digest, and the sum of its manifest's, config's and layer's sizes.
        func appLayer() throws -> (digest: String, total: Int) {
            let manifest = try appManifest()
            let layer = try #require((manifest["layers"] as? [[String: Any]])?.first)
            let config = try #require(manifest["config"] as? [String: Any])
            return (try #require(layer["digest"] as? String),
                    appImage.size + (config["size"] as? Int ?? 0) + (layer["size"] as? Int ?? 0))
        }
    }

    private func store() throws -> Store {
        let registry = try RegistryServer()
        let root = Fixtures.packageRoot
        let project = try PullProject(chartList: try String(contentsOfFile: root + "/chartsync.yaml", encoding: .utf8))
        try runCommand(["cp", "-a", root + "/versions.lock", root + "/charts", project.path])
        let appImage = try registry.push("team/app", tag: "1.0", format: .oci, seed: 11)
        let multiImage = try registry.pushIndex("team/multi", tag: "2.0", format: .oci, seed: 12)
        try registry.push("team/legacy", tag: "3.0", format: .docker, seed: 13)
        let (app, multi, legacy) = (registry.reference("team/app", tag: "1.0"), registry.reference("team/multi", tag: "2.0"),
                                    registry.reference("team/legacy", tag: "3.0"))
        try project.setChartList(try project.read("chartsync.yaml") + """

            images:
              extra:
                - \(app)
                - \(multi)
                - \(legacy)
              exclude:
                - docker.io/library/busybox
                - docker.io/library/nginx
              registries:
                - host: \(registry.name)
                  plainHTTP: true

            """)
        let pull = try CLI.run(["images", "--pull"], in: project.path)
        #expect(pull.status == 0, "\(pull.stdout)\n\(pull.stderr)")
        return Store(project: project, registry: registry, app: app, multi: multi, legacy: legacy,
                     appImage: appImage, multiImage: multiImage)
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    private func sha256(_ path: String) throws -> String {
        String(try runCommand(["sha256sum", path]).prefix(64))
    }

    private func blobs(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory + "/images/blobs/sha256").sorted()
    }

    /// The MANIFEST's files of a bundle, by path (via `inspect --json`).
    private func manifestFiles(_ bundle: String, in project: PullProject) throws -> [String: String] {
        let run = try CLI.run(["inspect", "--json", bundle], in: project.path)
        #expect(run.status == 0, "\(run.stderr)")
        var files: [String: String] = [:]
        for file in try json(run.stdout)["files"] as? [[String: Any]] ?? [] {
            files[file["path"] as! String] = file["sha256"] as? String
        }
        return files
    }

    @Test func theBundleCarriesExactlyTheNeededBlobsAndExtractsAUsableLayout() throws {
        let s = try store()
        defer { s.registry.stop() }
        let project = s.project
        let stored = try blobs(project.path)
        #expect(stored.count >= 10, "\(stored)")
        // A blob an older pull left (named by its own digest): never bundled.
        let stray = Array("stray blob from an older pull\n".utf8)
        let strayHex = String(try runCommand(["sh", "-c", "printf 'stray blob from an older pull\\n' | sha256sum"]).prefix(64))
        try project.directory.write("images/blobs/sha256/" + strayHex, stray)

        let out = try TemporaryDirectory()
        let environment = ["SOURCE_DATE_EPOCH": "1767225600"]
        let bundle = try CLI.run(["bundle", "-o", out.file("a.bundle")], in: project.path, environment: environment)
        #expect(bundle.status == 0, "\(bundle.stderr)")
        let files = try manifestFiles(out.file("a.bundle"), in: project)
        #expect(files["images/oci-layout"] != nil && files["images/index.json"] != nil)
        let bundledBlobs = files.keys.filter { $0.hasPrefix("images/blobs/sha256/") }.sorted()
        #expect(bundledBlobs == stored.map { "images/blobs/sha256/" + $0 })
        #expect(files["images/blobs/sha256/" + strayHex] == nil)
        for path in bundledBlobs { #expect(files[path] == "sha256:" + path.dropFirst("images/blobs/sha256/".count)) }

        // Reproducible: the same store gives the same bytes.
        #expect(try CLI.run(["bundle", "-o", out.file("b.bundle")], in: project.path, environment: environment).status == 0)
        #expect(try sha256(out.file("a.bundle")) == (try sha256(out.file("b.bundle"))))

        // inspect: each stored image with its size (the sum of its blobs) and platforms.
        let inspected = try CLI.run(["inspect", out.file("a.bundle")], in: project.path)
        #expect(inspected.status == 0)
        #expect(inspected.stdout.contains("images (stored, "), "\(inspected.stdout)")
        #expect(inspected.stdout.contains("  \(s.multi)  \(s.multiImage.digest)  "), "\(inspected.stdout)")
        #expect(inspected.stdout.contains("[linux/amd64, linux/arm64]"), "\(inspected.stdout)")
        let document = try json(try CLI.run(["inspect", "--json", out.file("a.bundle")], in: project.path).stdout)
        let storedImages = document["storedImages"] as? [[String: Any]] ?? []
        #expect(storedImages.map { $0["reference"] as? String } == [s.app, s.legacy, s.multi].sorted())
        let app = try #require(storedImages.first { $0["reference"] as? String == s.app })
        #expect(app["size"] as? Int == (try s.appLayer().total))

        // verify --extract: DIR/images/ is the layout, every blob its digest, skopeo reads it.
        let site = out.file("site")
        let verify = try CLI.run(["verify", out.file("a.bundle"), "--extract", site], in: project.path)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(try blobs(site) == stored)
        for name in try blobs(site) { #expect(try sha256(site + "/images/blobs/sha256/" + name) == name) }
        let skopeo = try runCommand(["skopeo", "inspect", "oci:\(site)/images:\(s.app)"])
        #expect(skopeo.contains(s.appImage.digest), "\(skopeo)")
    }

    @Test func damagedMissingAndUnneededBlobsStopTheBundleAndFailTheGate() throws {
        let s = try store()
        defer { s.registry.stop() }
        let project = s.project
        let out = try TemporaryDirectory()
        let layer = try s.appLayer().digest
        let layerHex = String(layer.dropFirst("sha256:".count))
        let layerPath = "images/blobs/sha256/" + layerHex
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: project.path + "/" + layerPath)))

        // Damaged: bundle refuses (exit 1) naming the image and the blob; the gate reports blob-mismatch.
        var damaged = original
        damaged[damaged.count / 2] ^= 0xff
        try project.directory.write(layerPath, damaged)
        let bundle = try CLI.run(["bundle", "-o", out.file("b")], in: project.path)
        #expect(bundle.status == 1, "\(bundle.stderr)")
        #expect(bundle.stderr.contains(layerPath) && bundle.stderr.contains(s.app), "\(bundle.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.file("b")))
        var gate = try gateProblems(project)
        #expect(gate.contains { $0.code == "blob-mismatch" && $0.file == layerPath && $0.images == [s.app] }, "\(gate)")

        // Missing.
        try FileManager.default.removeItem(atPath: project.path + "/" + layerPath)
        let missing = try CLI.run(["bundle", "-o", out.file("b")], in: project.path)
        #expect(missing.status == 1 && missing.stderr.contains("is missing") && missing.stderr.contains(s.app), "\(missing.stderr)")
        gate = try gateProblems(project)
        #expect(gate.contains { $0.code == "blob-missing" && $0.file == layerPath && $0.images == [s.app] }, "\(gate)")

        // Restored, plus an unneeded blob and a stray file: the gate names both, bundle leaves them out.
        try project.directory.write(layerPath, original)
        let strayHex = String(repeating: "ab", count: 32)
        try project.directory.write("images/blobs/sha256/" + strayHex, Array("x".utf8))
        try project.directory.write("images/notes.txt", Array("x".utf8))
        gate = try gateProblems(project)
        #expect(gate.map(\.code).sorted() == ["blob-unneeded", "image-store-invalid"], "\(gate)")
        try FileManager.default.removeItem(atPath: project.path + "/images/notes.txt")
        try FileManager.default.removeItem(atPath: project.path + "/images/blobs/sha256/" + strayHex)
        #expect(try CLI.run(["verify"], in: project.path).status == 0)

        // index.json not what images.lock pins: images.lock pins the legacy image to another digest.
        let lock = try project.read("images.lock")
        let pinned = try #require(lock.range(of: #"team/legacy:3\.0@sha256:[0-9a-f]{64}"#, options: .regularExpression))
        let repinned = lock.replacingCharacters(in: pinned, with: "team/legacy:3.0@sha256:" + String(repeating: "0", count: 64))
        try project.directory.write("images.lock", Array(repinned.utf8))
        gate = try gateProblems(project)
        #expect(gate.map(\.code) == ["image-not-stored"] && gate.first?.images == [s.legacy], "\(gate)")
        let stale = try CLI.run(["bundle", "-o", out.file("b")], in: project.path)
        #expect(stale.status == 1 && stale.stderr.contains("images.lock pins sha256:000"), "\(stale.stderr)")
    }

    /// A blob is not hashed before the bundle is written: its name is its digest, and the writer
    /// proves its bytes while it packs them. One whose bytes are not its name (same size) stops the
    /// bundle there: exit 1 naming the blob and its image, as when blobs were hashed first, every part
    /// written so far removed, and a bundle already at the output path left as it was.
    @Test func aBlobWhoseBytesAreNotItsNameStopsTheBundleWhileItIsWritten() throws {
        let s = try store()
        defer { s.registry.stop() }
        let project = s.project
        let out = try TemporaryDirectory()
        let old = try CLI.run(["bundle", "-o", out.file("old")], in: project.path)
        #expect(old.status == 0, "\(old.stderr)")
        let oldBytes = try Data(contentsOf: URL(fileURLWithPath: out.file("old")))
        let oldSidecar = try Data(contentsOf: URL(fileURLWithPath: out.file("old.sha256")))

        let layerPath = "images/blobs/sha256/" + (try s.appLayer().digest).dropFirst("sha256:".count)
        var damaged = try Array(Data(contentsOf: URL(fileURLWithPath: project.path + "/" + layerPath)))
        damaged[damaged.count - 1] ^= 0x01
        try project.directory.write(layerPath, damaged)

        // Uncompressed and cut into 1 KiB parts: the parts before the blob are on disk when it is found.
        for arguments in [["-o", out.file("b")], ["-o", out.file("b"), "--compression", "none", "--split-size", "1024"],
                          ["-o", out.file("old")]] {
            let run = try CLI.run(["bundle"] + arguments, in: project.path)
            #expect(run.status == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains("\(layerPath): blob of \(s.app) is damaged"), "\(arguments): \(run.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["old", "old.sha256"])
            #expect(try Data(contentsOf: URL(fileURLWithPath: out.file("old"))) == oldBytes)
            #expect(try Data(contentsOf: URL(fileURLWithPath: out.file("old.sha256"))) == oldSidecar)
        }
    }

    private struct Problem: CustomStringConvertible {
        let code: String
        let file: String
        let images: [String]
        var description: String { "\(code) \(file) \(images)" }
    }

    /// The gate's store problems (`verify --json`, checked against the schema).
    private func gateProblems(_ project: PullProject) throws -> [Problem] {
        let run = try CLI.run(["verify", "--json"], in: project.path)
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        let scratch = try TemporaryDirectory()
        try scratch.write("report.json", Array(run.stdout.utf8))
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.validate(json.load(open(sys.argv[2])), schema, cls=jsonschema.Draft202012Validator)
            """
        try runCommand(["python3", "-c", script, Fixtures.packageRoot + "/docs/schemas/verify-report.schema.json", scratch.file("report.json")])
        return (try json(run.stdout)["problems"] as? [[String: Any]] ?? []).filter { $0["check"] as? String == "store" }.map {
            Problem(code: $0["code"] as! String, file: $0["file"] as! String, images: $0["images"] as? [String] ?? [])
        }
    }

    /// A real bundle rewritten (unsigned, uncompressed) by `edit`, a Python body over `files`
    /// (MANIFEST's list) and `entries` (name -> bytes of the payload entries).
    private func crafted(_ s: Store, _ edit: String) throws -> (bundle: String, out: TemporaryDirectory) {
        let out = try TemporaryDirectory()
        let bundle = try CLI.run(["bundle", "-o", out.file("real"), "--compression", "none"], in: s.project.path)
        #expect(bundle.status == 0, "\(bundle.stderr)")
        let script = """
            import io, json, sys, tarfile, hashlib
            src = tarfile.open(sys.argv[1])
            entries = {}
            manifest = None
            for m in src.getmembers():
                data = src.extractfile(m).read()
                if m.name == 'MANIFEST': manifest = json.loads(data)
                else: entries[m.name[len('payload/'):]] = data
            files = manifest['files']
            def layer_of(files):
                return next(f for f in files if f['path'] == sys.argv[3])
            \(edit)
            manifest['files'] = sorted(files, key=lambda f: f['path'].encode())
            out = tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT)
            def add(name, data):
                t = tarfile.TarInfo(name); t.size, t.mode, t.mtime = len(data), 0o644, 0
                out.addfile(t, io.BytesIO(data))
            add('MANIFEST', json.dumps(manifest).encode())
            for f in manifest['files']:
                if f['path'] in entries: add('payload/' + f['path'], entries[f['path']])
            out.close()
            """
        let layer = try s.appLayer().digest
        try runCommand(["python3", "-c", script, out.file("real"), out.file("evil"), "images/blobs/sha256/" + layer.dropFirst(7)])
        return (out.file("evil"), out)
    }

    @Test func verifyRefusesABlobNotNamedByItsDigestAndAMissingReference() throws {
        let s = try store()
        defer { s.registry.stop() }
        // A layer renamed: MANIFEST lists it under another digest with its true sha256.
        let renamed = try crafted(s, """
            layer = layer_of(files)
            data = entries.pop(layer['path'])
            layer['path'] = 'images/blobs/sha256/' + 'ab' * 32
            entries[layer['path']] = data
            """)
        let run = try CLI.run(["verify", renamed.bundle, "--extract", renamed.out.file("site")], in: s.project.path)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("images/blobs/sha256/" + String(repeating: "ab", count: 32)) && run.stderr.contains("must be its name"),
                "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: renamed.out.file("site")))

        // A layer left out of MANIFEST and the stream: the manifest referencing it names it.
        let dropped = try crafted(s, """
            layer = layer_of(files)
            files.remove(layer)
            del entries[layer['path']]
            """)
        for arguments in [[dropped.bundle], [dropped.bundle, "--extract", dropped.out.file("site")]] {
            let run = try CLI.run(["verify"] + arguments, in: s.project.path)
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stderr.contains("is missing") && run.stderr.contains(s.app), "\(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dropped.out.file("site")))

        // The unmodified bundle passes (the crafting itself is sound).
        let plain = try crafted(s, "pass")
        let ok = try CLI.run(["verify", plain.bundle], in: s.project.path)
        #expect(ok.status == 0, "\(ok.stderr)")
    }
}

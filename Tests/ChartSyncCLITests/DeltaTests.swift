import ChartSyncTestSupport
import Foundation
import Testing

/// Issue 15, delta deliveries, on the built binary: `bundle --base` (a site's exported manifest or
/// the bundle it installed) and `verify DELTA --extract DIR` onto exactly that base. A site updated
/// by a delta is byte-identical to one extracted from the full bundle; every refusal leaves the
/// site and its parent as they were.
@Suite(.serialized) struct DeltaTests {
    /// The state a refusal must not change: the site's tree, its inode, and its parent's entries.
    private struct Before: Equatable {
        let tree: [String]
        let inode: String
        let parent: [String]
        init(_ site: String) throws {
            tree = try treeSnapshot(site)
            inode = try inodeNumber(site)
            parent = try entries((site as NSString).deletingLastPathComponent)
        }
    }

    private static func verify(_ bundle: String, _ site: String, _ extra: [String] = []) throws -> CLI.Run {
        try CLI.run(["verify", bundle, "--extract", site] + extra, in: (site as NSString).deletingLastPathComponent)
    }

    private static func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    private static func size(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    /// `sha256:` of the file at `path`.
    private static func digest(_ path: String) throws -> String {
        "sha256:" + (try sha256Hex(of: path))
    }

    /// One project making delivery "site" #1 (hello-web 1.0.0, a custom chart with a 4 MB file and
    /// a script) and #2 (hello-web 1.1.0, the same 4 MB file, the script made executable, a values
    /// file more), "lab" #1 (as "site" #1), and a
    /// twin "site" #2 (as #2 plus a patch); site #1 extracted into `sites/site`, its manifest
    /// exported to `base.json`, and the delta of #2 on it.
    private struct Deliveries {
        let project: ExampleProject
        let bundles: TemporaryDirectory
        let sites: TemporaryDirectory
        let first: String
        let lab: String
        let full: String
        let twin: String
        let delta: String
        var site: String { sites.file("site") }
        var base: String { bundles.file("base.json") }

        init(deltaArguments: [String] = [], big: Bool = false) throws {
            project = try ExampleProject()
            bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
            sites = try TemporaryDirectory(prefix: "chartsync-sites")
            let root = project.path
            try FileManager.default.createDirectory(atPath: root + "/charts/custom/tools", withIntermediateDirectories: true)
            try runCommand(["openssl", "rand", "-out", root + "/charts/custom/tools/payload.bin", "4000000"])
            try project.project.directory.write("charts/custom/tools/Chart.yaml", Array("apiVersion: v2\nname: tools\nversion: 0.1.0\n".utf8))
            try project.project.directory.write("charts/custom/tools/run.sh", Array("#!/bin/sh\necho tools\n".utf8))
            try project.pull(hello: "1.0.0")
            first = try Self.pack(project, "site", 1, bundles.file("site-1.bundle"))
            lab = try Self.pack(project, "lab", 1, bundles.file("lab-1.bundle"))
            let installed = try DeltaTests.verify(first, sites.file("site"))
            #expect(installed.status == 0, "\(installed.stderr)")
            let exported = try CLI.run(["inspect", sites.file("site"), "--export", bundles.file("base.json")], in: sites.path)
            #expect(exported.status == 0, "\(exported.stderr)")

            try project.pull(hello: "~1.1")
            try project.project.directory.write("charts/custom/tools/values.yaml", Array("replicas: 1\n".utf8))
            // The same content, now executable: taken from the site by a copy with the new mode.
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root + "/charts/custom/tools/run.sh")
            if big { try runCommand(["openssl", "rand", "-out", root + "/charts/custom/tools/big.bin", "200000000"]) }
            full = try Self.pack(project, "site", 2, bundles.file("site-2.bundle"))
            delta = try Self.pack(project, "site", 2, bundles.file("site-2.delta"), ["--base", bundles.file("base.json")] + deltaArguments)
            try project.project.directory.write("charts/patches/hello-web/replicas.yaml", Array("replicas: 3\n".utf8))
            twin = try Self.pack(project, "site", 2, bundles.file("site-2b.bundle"))
            try FileManager.default.removeItem(atPath: root + "/charts/patches")
        }

        static func pack(_ project: ExampleProject, _ name: String, _ sequence: Int, _ output: String,
                         _ extra: [String] = []) throws -> String {
            let made = try CLI.run(["bundle", "-o", output, "--name", name, "--sequence", String(sequence)] + extra, in: project.path)
            #expect(made.status == 0, "\(made.stderr)")
            return output
        }
    }

    // MARK: - The delta gives the full delivery

    /// The chart list of a project with hello-web at `hello` and `images` in its image store.
    private static func chartList(hello: String, images: [String], registry: String) -> String {
        ExampleProject.chartList(hello: hello) + """
            images:
              extra:
            \(images.map { "    - \($0)\n" }.joined())  exclude:
                - docker.io/library/busybox
                - docker.io/library/nginx
              registries:
                - host: \(registry)
                  plainHTTP: true

            """
    }

    /// Full #1 (hello-web 1.0.0, an image with a 4 MB layer) extracted; #2 updates hello-web to
    /// 1.1.0 and adds a small image. The delta onto the site's exported manifest is a small
    /// fraction of the full #2; applied, the site is byte-identical (`diff -r`, `.chartsync`
    /// included) to one the full #2 was extracted into, and the gate passes in it.
    @Test func theDeltaMakesTheSiteTheFullDelivery() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let appImage = try registry.push("team/app", tag: "1.0", format: .oci, seed: 31, layerSize: 4_000_000)
        try registry.push("team/tool", tag: "1.0", format: .oci, seed: 32)
        let (app, tool) = (registry.reference("team/app", tag: "1.0"), registry.reference("team/tool", tag: "1.0"))
        let project = try ExampleProject()
        let bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
        let sites = try TemporaryDirectory(prefix: "chartsync-sites")
        let (site, reference) = (sites.file("site"), sites.file("reference"))

        try project.project.setChartList(Self.chartList(hello: "1.0.0", images: [app], registry: registry.name))
        #expect(try project.project.pull().status == 0)
        let pulled = try CLI.run(["images", "--pull"], in: project.path)
        #expect(pulled.status == 0, "\(pulled.stdout)\n\(pulled.stderr)")
        let first = try Deliveries.pack(project, "site", 1, bundles.file("site-1.bundle"))
        let one = try Self.verify(first, site)
        #expect(one.status == 0, "\(one.stderr)")
        let export = try CLI.run(["inspect", site, "--export", bundles.file("base.json")], in: sites.path)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("wrote \(bundles.file("base.json")): the installed manifest"), "\(export.stdout)")
        #expect(try Self.digest(bundles.file("base.json")) == Self.digest(site + "/.chartsync/MANIFEST"))

        try project.project.setChartList(Self.chartList(hello: "~1.1", images: [app, tool], registry: registry.name))
        #expect(try project.project.pull().status == 0)
        let again = try CLI.run(["images", "--pull"], in: project.path)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
        let full = try Deliveries.pack(project, "site", 2, bundles.file("site-2.bundle"))
        let packed = try CLI.run(["bundle", "-o", bundles.file("site-2.delta"), "--name", "site", "--sequence", "2",
                                  "--base", bundles.file("base.json"), "--json"], in: project.path)
        #expect(packed.status == 0, "\(packed.stderr)")
        let delta = bundles.file("site-2.delta")

        // What the delta carries: the new chart, the locks, the chart list, the new image's blobs
        // and index.json; never the 4 MB layer.
        let summary = try #require(try Self.json(packed.stdout)["delta"] as? [String: Any])
        #expect(summary["baseManifest"] as? String == (try Self.digest(site + "/.chartsync/MANIFEST")))
        #expect(summary["baseName"] as? String == "site" && summary["baseSequence"] as? Int == 1)
        let carriedBytes = try #require(summary["carriedBytes"] as? Int)
        #expect(carriedBytes < 100_000, "\(summary)")
        let (deltaSize, fullSize) = (try Self.size(delta), try Self.size(full))
        #expect(fullSize > 4_000_000)
        #expect(Double(deltaSize) / Double(fullSize) < 0.1, "delta \(deltaSize) bytes, full \(fullSize) bytes")
        print("delta/full: \(deltaSize) / \(fullSize) bytes = \(Double(deltaSize) / Double(fullSize))")
        let inspected = try Self.json(try CLI.run(["inspect", "--json", delta], in: bundles.path).stdout)
        let files = inspected["files"] as? [[String: Any]] ?? []
        let carried = Set(files.filter { $0["inBase"] as? Bool == false }.map { $0["path"] as! String })
        #expect(carried.contains("charts/external/hello-web-1.1.0.tgz") && carried.contains("images/index.json")
                && carried.contains("versions.lock") && carried.contains("images.lock"), "\(carried.sorted())")
        #expect(!carried.contains { $0.hasPrefix("charts/external/hello-web-1.0.0") }, "\(carried.sorted())")

        let made = try Self.verify(full, reference)
        #expect(made.status == 0, "\(made.stderr)")
        let applied = try Self.verify(delta, site)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("  delta onto \"site\" #1 (\(summary["baseManifest"] as? String ?? "?")): \(carried.count) file(s) carried and proven; "
                                        + "the other \(files.count - carried.count) proven from the site's installed files"), "\(applied.stdout)")
        #expect(applied.stdout.contains("  extracted to \(site) (replacing site #1)\n"), "\(applied.stdout)")
        #expect(applied.stdout.contains("  updated  hello-web 1.0.0 -> 1.1.0\n"), "\(applied.stdout)")

        let diff = try CLI.program(["/usr/bin/diff", "-r", site, reference], in: sites.path)
        #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
        #expect(try treeSnapshot(site) == treeSnapshot(reference))
        #expect(try entries(site + "/.chartsync") == ["MANIFEST", "installed.json"])
        #expect(try entries(sites.path) == ["reference", "site"])
        let skopeo = try runCommand(["skopeo", "inspect", "oci:\(site)/images:\(tool)"])
        #expect(skopeo.contains("\"Digest\""), "\(skopeo)")

        let gate = try CLI.run(["verify", "-f", site + "/chartsync.yaml"], in: site)
        #expect(gate.status == 0, "\(gate.stdout)\(gate.stderr)")

        // The 4 MB layer is left to the site, so the writer never reads it: it is proven before,
        // and damaged (same size) it stops the delta, naming the layer and its image.
        let layerPath = "images/blobs/sha256/" + (try #require(appImage.layers.last)).digest.dropFirst("sha256:".count)
        var damaged = try Array(Data(contentsOf: URL(fileURLWithPath: project.path + "/" + layerPath)))
        damaged[0] ^= 0x01
        try project.project.directory.write(layerPath, damaged)
        let refused = try CLI.run(["bundle", "-o", bundles.file("site-3.delta"), "--name", "site", "--sequence", "3",
                                   "--base", bundles.file("base.json")], in: project.path)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("\(layerPath): blob of \(app) is damaged"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: bundles.file("site-3.delta")))
    }

    // MARK: - Refusals

    /// Onto nothing, an empty directory, a site of another name, or a site at #2 from another
    /// delivery: exit 1 naming the delta's base and what the site has; nothing changes.
    @Test func anotherBaseIsRefused() throws {
        let d = try Deliveries()
        let baseDigest = try Self.digest(d.site + "/.chartsync/MANIFEST")
        let wanted = "this bundle is a delta for delivery \"site\" #1 (manifest \(baseDigest)), but "

        let missing = try Self.verify(d.delta, d.sites.file("new"))
        #expect(missing.status == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains(wanted + d.sites.file("new") + " holds no delivery; extract the full bundle first (nothing was changed)"),
                "\(missing.stderr)")
        try FileManager.default.createDirectory(atPath: d.sites.file("empty"), withIntermediateDirectories: false)
        let empty = try Self.verify(d.delta, d.sites.file("empty"))
        #expect(empty.status == 1, "\(empty.stderr)")
        #expect(empty.stderr.contains("holds no delivery"), "\(empty.stderr)")
        #expect(try entries(d.sites.path) == ["empty", "site"])
        #expect(try entries(d.sites.file("empty")).isEmpty)

        for (name, bundle) in [("lab", d.lab), ("twin", d.twin)] {
            let other = d.sites.file(name)
            let installed = try Self.verify(bundle, other)
            #expect(installed.status == 0, "\(installed.stderr)")
            let before = try Before(other)
            let run = try Self.verify(d.delta, other)
            #expect(run.status == 1, "\(name): \(run.stderr)")
            let has = name == "lab" ? "delivery \"lab\" #1" : "delivery \"site\" #2"
            #expect(run.stderr.contains(wanted + "\(other) has \(has) (manifest \(try Self.digest(other + "/.chartsync/MANIFEST"))); "
                                        + "a delta applies only onto its base"), "\(run.stderr)")
            #expect(run.stdout.isEmpty)
            #expect(try Before(other) == before)
        }
    }

    /// A base file the delta takes from the site changed (same size) or removed: exit 1 naming it;
    /// the site stays as it is (damaged), with no staging beside it.
    @Test(arguments: ["changed", "removed"])
    func damagedBaseIsRefused(_ damage: String) throws {
        let d = try Deliveries()
        let victim = d.site + "/charts/custom/tools/payload.bin"
        if damage == "changed" {
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: victim)))
            bytes[bytes.count / 2] ^= 0xff
            try Data(bytes).write(to: URL(fileURLWithPath: victim))
        } else {
            try FileManager.default.removeItem(atPath: victim)
        }
        let before = try Before(d.site)
        let run = try Self.verify(d.delta, d.site)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("\(d.site)/charts/custom/tools/payload.bin, which the delta takes from the installed delivery, "), "\(run.stderr)")
        #expect(run.stderr.contains(damage == "changed" ? "(4000000 bytes), not sha256:" : "is missing or not a regular file"), "\(run.stderr)")
        #expect(run.stderr.contains("extract the full bundle (nothing was changed)"), "\(run.stderr)")
        #expect(try Before(d.site) == before)
        #expect(try entries(d.sites.path) == ["site"])
    }

    /// Applied (a base file whose mode changed is copied with the new mode: the site is the full
    /// #2's tree), then again: the second run says #2 is installed already and touches nothing.
    @Test func appliedTwiceChangesNothing() throws {
        let d = try Deliveries()
        let first = try Self.verify(d.delta, d.site)
        #expect(first.status == 0, "\(first.stderr)")
        let reference = d.sites.file("reference")
        #expect(try Self.verify(d.full, reference).status == 0)
        #expect(try treeSnapshot(d.site) == treeSnapshot(reference))
        #expect(try treeSnapshot(d.site).contains { $0.hasPrefix("./charts/custom/tools/run.sh 755 ") })
        let diff = try CLI.program(["/usr/bin/diff", "-r", d.site, reference], in: d.sites.path)
        #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
        let before = try Before(d.site)
        let again = try Self.verify(d.delta, d.site)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("  already installed in \(d.site); nothing changed"), "\(again.stdout)")
        #expect(!again.stdout.contains("extracted to"), "\(again.stdout)")
        #expect(try Before(d.site) == before)
        // The full #2 is the same delivery: installed already too.
        let full = try Self.verify(d.full, d.site)
        #expect(full.status == 0 && full.stdout.contains("already installed"), "\(full.stdout)\(full.stderr)")
        #expect(try Before(d.site) == before)
    }

    /// SIGINT while the delta's carried files (200 MB) are extracted: exit 130, the site
    /// byte-identical, no staging left; the next run applies it.
    @Test func interruptedApplyLeavesTheSiteUnchanged() throws {
        let d = try Deliveries(big: true)
        let before = try Before(d.site)
        let logs = try TemporaryDirectory(prefix: "chartsync-log")
        let child = try ChildProcess(["nice", "-n", "19", CLI.binary, "verify", d.delta, "--extract", d.site], outputPath: logs.file("out"))
        let staging = try waitForEntry(in: d.sites.path, prefix: ".site.chartsync-staging-", child: child)
        try waitUntilSignalsTrapped(child)
        kill(child.pid, SIGINT)
        let log = { (try? String(contentsOfFile: logs.file("out"), encoding: .utf8)) ?? "" }
        #expect(child.wait(timeout: 60) == 130, "\(log())")
        #expect(log().contains("interrupted; nothing was changed"), "\(log())")
        #expect(!FileManager.default.fileExists(atPath: d.sites.file(staging)))
        #expect(try Before(d.site) == before)

        let next = try Self.verify(d.delta, d.site)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try sha256Hex(of: d.site + "/charts/custom/tools/big.bin") == sha256Hex(of: d.project.path + "/charts/custom/tools/big.bin"))
    }

    /// A delta whose sequence is not above its base's (same name) is refused when packed: exit 2,
    /// no bundle written.
    @Test func sequenceNotAboveTheBaseIsRefusedAtPackTime() throws {
        let d = try Deliveries()
        for sequence in ["1", "0"] {
            let output = d.bundles.file("low-\(sequence).delta")
            let run = try CLI.run(["bundle", "-o", output, "--name", "site", "--sequence", sequence, "--base", d.base], in: d.project.path)
            #expect(run.status == 2, "\(run.stderr)")
            #expect(run.stderr.contains("is delivery \"site\" #1; a delta on it needs a higher --sequence than \(sequence)"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
            #expect(!FileManager.default.fileExists(atPath: output + ".sha256"))
        }
    }

    // MARK: - Proving a delta

    /// A signed delta verifies with --trusted-key and applies; its MANIFEST rewritten (the base
    /// digest, here pointing it at another site) with the signature kept is refused.
    @Test func signedDeltaAndATamperedManifest() throws {
        let keys = try TemporaryDirectory(prefix: "chartsync-keys")
        #expect(try CLI.run(["keygen", keys.file("release.key")], in: keys.path).status == 0)
        let d = try Deliveries(deltaArguments: ["--sign-key", keys.file("release.key"), "--compression", "none"])
        let trusted = ["--trusted-key", keys.file("release.key.pub")]
        let proven = try CLI.run(["verify", d.delta] + trusted, in: d.bundles.path)
        #expect(proven.status == 0, "\(proven.stderr)")
        #expect(proven.stdout.contains("  signature: valid, by SHA256:"), "\(proven.stdout)")

        let tampered = d.bundles.file("tampered.delta")
        let script = """
            import io, json, sys, tarfile
            src = tarfile.open(sys.argv[1])
            out = tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT)
            for m in src.getmembers():
                data = src.extractfile(m).read()
                if m.name == 'MANIFEST':
                    data = data.replace(sys.argv[3].encode(), sys.argv[4].encode())
                    assert sys.argv[4].encode() in data
                    m.size = len(data)
                out.addfile(m, io.BytesIO(data))
            out.close()
            """
        let baseDigest = try Self.digest(d.site + "/.chartsync/MANIFEST")
        try runCommand(["python3", "-c", script, d.delta, tampered, baseDigest, "sha256:" + String(repeating: "0", count: 64)])
        let before = try Before(d.site)
        let refused = try Self.verify(tampered, d.site, trusted)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("the manifest's signature is not valid for the trusted key"), "\(refused.stderr)")
        #expect(try Before(d.site) == before)

        let applied = try Self.verify(d.delta, d.site, trusted)
        #expect(applied.status == 0, "\(applied.stderr)")
        let record = try Self.json(try String(contentsOfFile: d.site + "/.chartsync/installed.json", encoding: .utf8))
        #expect((record["signer"] as? String)?.hasPrefix("SHA256:") == true, "\(record)")
        #expect(record["sequence"] as? Int == 2)
    }

    /// `verify DELTA` alone proves the files it carries and says the others are proven at the
    /// site; a carried entry whose bytes changed is refused.
    @Test func verifyAloneProvesTheCarriedFiles() throws {
        let d = try Deliveries(deltaArguments: ["--compression", "none"])
        let run = try CLI.run(["verify", d.delta], in: d.bundles.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("  site #2: 1 chart(s)"), "\(run.stdout)")
        let baseDigest = try Self.digest(d.site + "/.chartsync/MANIFEST")
        #expect(run.stdout.contains("  delta onto \"site\" #1 (\(baseDigest)): "), "\(run.stdout)")
        #expect(run.stdout.contains(" file(s) carried and proven; the other ") && run.stdout.contains(" are proven against the site with --extract"),
                "\(run.stdout)")

        let document = try Self.json(try CLI.run(["verify", "--json", d.delta], in: d.bundles.path).stdout)
        let delta = try #require(document["delta"] as? [String: Any], "\(document.keys.sorted())")
        #expect(delta["baseManifest"] as? String == baseDigest && delta["baseName"] as? String == "site" && delta["baseSequence"] as? Int == 1)
        #expect((delta["carriedFiles"] as? Int ?? 0) > 0 && (delta["baseFiles"] as? Int ?? 0) >= 3, "\(delta)")
        #expect((delta["carriedFiles"] as? Int ?? 0) + (delta["baseFiles"] as? Int ?? 0) == document["files"] as? Int)

        let damaged = d.bundles.file("damaged.delta")
        let script = """
            import io, sys, tarfile
            src = tarfile.open(sys.argv[1])
            out = tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT)
            for m in src.getmembers():
                data = src.extractfile(m).read()
                if m.name == 'payload/charts/custom/tools/values.yaml':
                    data = data.replace(b'replicas: 1', b'replicas: 9')
                out.addfile(m, io.BytesIO(data))
            out.close()
            """
        try runCommand(["python3", "-c", script, d.delta, damaged])
        let refused = try CLI.run(["verify", damaged], in: d.bundles.path)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("charts/custom/tools/values.yaml") && refused.stderr.contains("is corrupt"), "\(refused.stderr)")
    }

    /// `inspect DELTA` shows the delta line, and --json the base and each file's inBase; a full
    /// bundle has no base and no file in it.
    @Test func inspectShowsTheDelta() throws {
        let d = try Deliveries()
        let baseDigest = try Self.digest(d.site + "/.chartsync/MANIFEST")
        let text = try CLI.run(["inspect", d.delta], in: d.bundles.path)
        #expect(text.status == 0, "\(text.stderr)")
        let line = try #require(text.stdout.split(separator: "\n").first { $0.hasPrefix("delta:") }, "\(text.stdout)")
        #expect(line.hasPrefix("delta:     onto \"site\" #1 (\(baseDigest)); carries "), "\(line)")
        #expect(line.hasSuffix(" bytes"))
        #expect(!(try CLI.run(["inspect", d.full], in: d.bundles.path)).stdout.contains("delta:"))

        let document = try Self.json(try CLI.run(["inspect", "--json", d.delta], in: d.bundles.path).stdout)
        let base = try #require(document["base"] as? [String: Any], "\(document.keys.sorted())")
        #expect(base["manifest"] as? String == baseDigest)
        #expect(base["name"] as? String == "site" && base["sequence"] as? Int == 1)
        let files = try #require(document["files"] as? [[String: Any]])
        let inBase = Set(files.filter { $0["inBase"] as? Bool == true }.map { $0["path"] as! String })
        #expect(inBase.contains("charts/custom/tools/payload.bin") && inBase.contains("charts/custom/tools/run.sh"), "\(inBase.sorted())")
        #expect(!inBase.contains("charts/custom/tools/values.yaml") && !inBase.contains("charts/external/hello-web-1.1.0.tgz"))
        #expect(files.allSatisfy { $0["inBase"] is Bool })

        let fullDocument = try Self.json(try CLI.run(["inspect", "--json", d.full], in: d.bundles.path).stdout)
        #expect(fullDocument["base"] == nil)
        #expect((fullDocument["files"] as? [[String: Any]] ?? []).allSatisfy { $0["inBase"] as? Bool == false })
    }

    /// `--base` given the bundle the site installed (full, or itself a delta) packs the same bytes
    /// as the manifest the site exported; all are reproducible.
    @Test func theInstalledBundleIsABaseLikeTheExportedManifest() throws {
        let d = try Deliveries()
        let environment = ["SOURCE_DATE_EPOCH": "1767225600"]
        var digests: [String] = []
        for (index, base) in [d.base, d.first, d.base, d.first].enumerated() {
            let output = d.bundles.file("reproduced-\(index).delta")
            let run = try CLI.run(["bundle", "-o", output, "--name", "site", "--sequence", "2", "--base", base], in: d.project.path,
                                  environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            digests.append(try Self.digest(output))
        }
        #expect(Set(digests).count == 1, "\(digests)")
        // The delta packed from the bundle applies to the site as well.
        let applied = try Self.verify(d.bundles.file("reproduced-1.delta"), d.site)
        #expect(applied.status == 0, "\(applied.stderr)")

        // #3 on the site now at #2: the site's export, the delta it installed and the full #2 are
        // the same base.
        #expect(try CLI.run(["inspect", d.site, "--export", d.bundles.file("base-2.json")], in: d.sites.path).status == 0)
        var third: [String] = []
        for (index, base) in [d.bundles.file("base-2.json"), d.delta, d.full].enumerated() {
            let output = d.bundles.file("third-\(index).delta")
            let run = try CLI.run(["bundle", "-o", output, "--name", "site", "--sequence", "3", "--base", base], in: d.project.path,
                                  environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            third.append(try Self.digest(output))
        }
        #expect(Set(third).count == 1, "\(third)")
        let next = try Self.verify(d.bundles.file("third-1.delta"), d.site)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stdout.contains("(replacing site #2)"), "\(next.stdout)")

        // Something that is neither: exit 2, named.
        try d.bundles.write("junk", Array("not a manifest\n".utf8))
        let junk = try CLI.run(["bundle", "-o", d.bundles.file("junk.delta"), "--sequence", "3", "--base", d.bundles.file("junk")], in: d.project.path)
        #expect(junk.status == 2, "\(junk.stderr)")
        #expect(junk.stderr.contains("neither a delivery manifest nor a bundle"), "\(junk.stderr)")
    }
}

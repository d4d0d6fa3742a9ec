import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync push BUNDLE` on the built binary: a bundle of charts and images pushed straight into
/// a real registry gives what pushing its project gives, writes nothing to disk, and sends
/// nothing the second time; its blobs go up to `--jobs` at once as the bundle streams; a damaged
/// bundle is refused before any request, and a blob damaged between the two passes is never
/// closed, nor anything tagged.
@Suite struct PushBundleTests {
    /// `pushed target without its registry host` -> digest, for every artifact of a push report.
    private func contents(_ run: CLI.Run, registry: RegistryServer) throws -> [String: String] {
        var all: [String: String] = [:]
        for artifact in try jsonObject(run)["artifacts"] as? [[String: Any]] ?? [] {
            let pushed = try #require(artifact["pushed"] as? String)
            all[String(pushed.dropFirst(registry.name.count + 1))] = artifact["digest"] as? String
        }
        return all
    }

    /// Every file below `path`, relative.
    private func files(_ path: String) -> [String] {
        (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func aBundlePushedStraightFillsTheRegistryAsItsProjectDoesThenSendsNothing() throws {
        // A 40 MiB layer: uploaded in PATCH chunks as its entry streams by.
        let project = try PushProject(largeLayer: 40 << 20)
        let out = try TemporaryDirectory(prefix: "chartsync-bundlepush")
        let bundled = try CLI.run(["bundle", "-o", out.file("site.bundle"), "--name", "site", "--sequence", "1"], in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")

        let fromProject = try RegistryServer()
        defer { fromProject.stop() }
        let expected = try push(project.path, ["--registry", fromProject.name + "/site", "--plain-http", "--json"])
        #expect(expected.status == 0, "\(expected.stderr)")

        let registry = try RegistryServer()
        defer { registry.stop() }
        let scratch = try TemporaryDirectory(prefix: "chartsync-tmp")
        let before = files(out.path)
        let first = try CLI.run(["push", out.file("site.bundle"), "--registry", registry.name + "/site", "--plain-http", "--json"],
                                in: out.path, environment: ["TMPDIR": scratch.path])
        #expect(first.status == 0, "\(first.stderr)\n\(registry.log().suffix(3000))")
        // Nothing written: no file in TMPDIR, none beside the bundle.
        #expect(files(scratch.path).isEmpty, "\(files(scratch.path))")
        #expect(files(out.path) == before)

        // The same tags naming the same digests as the project's push: 4 charts, 4 images.
        let pushed = try contents(first, registry: registry)
        #expect(pushed == (try contents(expected, registry: fromProject)), "\(first.stdout)\n\(expected.stdout)")
        #expect(pushed.count == project.charts.count + project.images.count)
        for (reference, digest) in project.images {
            let repositoryAndTag = String(reference.dropFirst(project.source.name.count + 1))
            #expect(pushed["site/" + repositoryAndTag] == digest)
            #expect(try RegistryAccess(registry).manifestDigest("site/" + repositoryAndTag) == digest)
        }
        let pulled = try RegistryAccess(registry).helmPull(project.charts.map { ("oci://\(registry.name)/site/\($0.name)", $0.version) })
        #expect(pulled == project.charts.map(\.sha256), "\(pulled)")
        // The large layer went in chunks, and reads back whole.
        let requests = registryRequests(registry)
        #expect(requests.contains { $0.hasPrefix("PATCH ") }, "\(requests)")
        let big = try #require(project.images.first { $0.key.hasSuffix("team/big:1.0") })
        let manifest = try runCommand(["curl", "-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                                       registry.baseURL + "/v2/site/team/big/manifests/" + big.value])
        let layers = (try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any])?["layers"] as? [[String: Any]]
        let layer = try #require(layers?.first?["digest"] as? String)
        #expect(try servedBlobDigest(registry, repository: "site/team/big", digest: layer) == layer)
        // The config and layer two images share: uploaded once, mounted once each, as from a directory.
        let blobs = try jsonObject(first)["blobs"] as? [String: Any] ?? [:]
        #expect(blobs["mounted"] as? Int == 2 && blobs["present"] as? Int == 0, "\(blobs)")
        #expect((blobs["uploadedBytes"] as? Int ?? 0) >= 40 << 20, "\(blobs)")

        // Again: every artifact unchanged, no blob sent, only HEAD and GET.
        let second = try CLI.run(["push", out.file("site.bundle"), "--registry", registry.name + "/site", "--plain-http", "--json"],
                                 in: out.path, environment: ["TMPDIR": scratch.path])
        #expect(second.status == 0, "\(second.stderr)")
        let statuses = (try jsonObject(second)["artifacts"] as? [[String: Any]] ?? []).map { $0["status"] as? String ?? "?" }
        #expect(statuses == Array(repeating: "unchanged", count: pushed.count), "\(second.stdout)")
        let sent = try jsonObject(second)["blobs"] as? [String: Any] ?? [:]
        #expect(sent["uploaded"] as? Int == 0 && sent["mounted"] as? Int == 0, "\(sent)")
        let again = registryRequests(registry).dropFirst(requests.count)
        #expect(!again.isEmpty && again.allSatisfy { $0.hasPrefix("HEAD ") || $0.hasPrefix("GET ") }, "\(again)")
        #expect(files(scratch.path).isEmpty)
    }

    @Test func aSplitSignedBundleByItsPartsFile() throws {
        let project = try PushProject(customChart: false)
        let out = try TemporaryDirectory(prefix: "chartsync-bundlepush")
        let keys = try TemporaryDirectory(prefix: "chartsync-keys")
        #expect(try CLI.run(["keygen", keys.file("release.key")], in: keys.path).status == 0)
        #expect(try CLI.run(["keygen", keys.file("other.key")], in: keys.path).status == 0)
        let (secret, key, otherKey) = (keys.file("release.key"), keys.file("release.key.pub"), keys.file("other.key.pub"))
        let bundled = try CLI.run(["bundle", "-o", out.file("site.bundle"), "--split-size", "16K", "--compression", "none", "--sign-key", secret],
                                  in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.file("site.bundle.001")))

        let registry = try RegistryServer()
        defer { registry.stop() }
        let run = try CLI.run(["push", out.file("site.bundle.parts"), "--trusted-key", key, "--registry", registry.name + "/site",
                               "--plain-http", "--json"], in: out.path)
        #expect(run.status == 0, "\(run.stderr)")
        let pushed = try contents(run, registry: registry)
        #expect(pushed.count == project.charts.count + project.images.count, "\(run.stdout)")
        for (reference, digest) in project.images {
            #expect(pushed["site/" + String(reference.dropFirst(project.source.name.count + 1))] == digest)
        }

        // Another key: refused as verify refuses it, before any request.
        let count = registryRequests(registry).count
        let refused = try CLI.run(["push", out.file("site.bundle.000"), "--trusted-key", otherKey, "--registry", registry.name + "/site",
                                   "--plain-http"], in: out.path)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(registryRequests(registry).count == count)
    }

    @Test func aDamagedBundleIsRefusedAndNothingIsPushed() throws {
        let project = try PushProject(customChart: false)
        let out = try TemporaryDirectory(prefix: "chartsync-bundlepush")
        let bundled = try CLI.run(["bundle", "-o", out.file("site.bundle"), "--compression", "none"], in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        // One byte changed in the largest image blob entry (a layer), in place.
        let script = """
            import sys, tarfile
            path = sys.argv[1]
            with tarfile.open(path) as t:
                blobs = [m for m in t.getmembers() if m.name.startswith('payload/images/blobs/')]
                victim = max(blobs, key=lambda m: m.size)
            with open(path, 'r+b') as f:
                f.seek(victim.offset_data + victim.size // 2)
                b = f.read(1)
                f.seek(-1, 1)
                f.write(bytes([b[0] ^ 0x01]))
            print(victim.name[len('payload/'):])
            """
        let damaged = try runCommand(["python3", "-c", script, out.file("site.bundle")]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(damaged.hasPrefix("images/blobs/sha256/"))

        let registry = try RegistryServer()
        defer { registry.stop() }
        let run = try CLI.run(["push", out.file("site.bundle"), "--registry", registry.name + "/site", "--plain-http"], in: out.path)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains(damaged) && run.stderr.contains("corrupt"), "\(run.stderr)")
        // Proven before any request: the registry saw nothing, least of all an upload.
        let requests = registryRequests(registry)
        #expect(!requests.contains { $0.hasPrefix("PUT ") || $0.hasPrefix("PATCH ") || $0.hasPrefix("POST ") }, "\(requests)")
        #expect(requests.isEmpty, "\(requests)")
    }

    /// Each blob's upload session under `prefix`, opened (`POST`) and closed (`PUT ?digest=`), in
    /// the order the registry finished the requests: the most sessions open at once.
    private func mostUploadsAtOnce(_ registry: RegistryServer, under prefix: String) -> Int {
        var open = 0, most = 0
        for request in registryRequests(registry) where request.contains("/blobs/uploads/") && request.contains(" " + prefix) {
            if request.hasPrefix("POST ") && !request.contains("mount=") {
                open += 1
                most = max(most, open)
            } else if request.hasPrefix("PUT ") && request.contains("digest=") {
                open -= 1
            }
        }
        return most
    }

    @Test func blobsGoUpToJobsAtOnceWhileTheBundleIsReadOnce() throws {
        let project = try PushProject(customChart: false, largeLayer: 20 << 20)
        let out = try TemporaryDirectory(prefix: "chartsync-bundlepush")
        let bundled = try CLI.run(["bundle", "-o", out.file("site.bundle")], in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        let registry = try RegistryServer()
        defer { registry.stop() }
        let proxy = try FaultServer()
        defer { proxy.stop() }
        try proxy.proxy(to: registry.baseURL)
        // Every image blob's closing PUT waits 1.5 s in the proxy: the reader does not wait for it,
        // so the next blobs' sessions open meanwhile (one at a time, none would).
        for repository in ["team/oci-app", "team/multi", "team/big"] {
            try proxy.plan("PUT", prefix: "/v2/site/\(repository)/blobs/uploads/", [.forward(delay: 1.5)])
        }
        let run = try CLI.run(["push", out.file("site.bundle"), "--registry", "127.0.0.1:\(proxy.port)/site", "--plain-http",
                               "--jobs", "4", "--json"], in: out.path)
        #expect(run.status == 0, "\(run.stderr)\n\(registry.log().suffix(3000))")
        // The image blobs are all bundle entries (the charts' configs, made in memory, go before them).
        let most = mostUploadsAtOnce(registry, under: "/v2/site/team/")
        #expect(most >= 2 && most <= 4, "\(registryRequests(registry))")

        // Every blob proven and closed: the registry took each PUT ?digest=, serves the large layer
        // whole, and every image is there by its digest.
        let blobs = try jsonObject(run)["blobs"] as? [String: Any] ?? [:]
        let closes = registryRequests(registry).filter { $0.hasPrefix("PUT ") && $0.contains("/blobs/uploads/") && $0.contains("digest=") }
        #expect(blobs["uploaded"] as? Int == closes.count, "\(blobs) \(closes)")
        #expect(registryRequests(registry).contains { $0.hasPrefix("PATCH /v2/site/team/big/blobs/uploads/") })
        for (reference, digest) in project.images {
            #expect(try RegistryAccess(registry).manifestDigest("site/" + String(reference.dropFirst(project.source.name.count + 1))) == digest)
        }
        let big = try #require(project.images.first { $0.key.hasSuffix("team/big:1.0") })
        let manifest = try runCommand(["curl", "-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                                       registry.baseURL + "/v2/site/team/big/manifests/" + big.value])
        let layers = (try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any])?["layers"] as? [[String: Any]]
        let layer = try #require(layers?.first?["digest"] as? String)
        #expect(try servedBlobDigest(registry, repository: "site/team/big", digest: layer) == layer)
    }

    @Test func aBlobDamagedBetweenThePassesIsNeverClosedAndNothingIsTagged() throws {
        let project = try PushProject(customChart: false, largeLayer: 40 << 20)
        let out = try TemporaryDirectory(prefix: "chartsync-bundlepush")
        let bundled = try CLI.run(["bundle", "-o", out.file("site.bundle"), "--compression", "none"], in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        let registry = try RegistryServer()
        defer { registry.stop() }
        let proxy = try FaultServer()
        defer { proxy.stop() }
        try proxy.proxy(to: registry.baseURL)
        // The first HEAD (the first pass is over; the second has not begun) waits 3 s in the proxy:
        // time to change the bundle under the push.
        try proxy.plan("HEAD", prefix: "/v2/site/", [.forward(delay: 3), .forward()])

        let logs = try TemporaryDirectory(prefix: "chartsync-log")
        let child = try ChildProcess([CLI.binary, "push", out.file("site.bundle"), "--registry", "127.0.0.1:\(proxy.port)/site",
                                      "--plain-http", "--jobs", "4"], outputPath: logs.file("out"))
        let deadline = Date().addingTimeInterval(120)
        while try !proxy.requests().contains(where: { $0.method == "HEAD" }) {
            guard child.isRunning, Date() < deadline else {
                throw SupportError("no HEAD: \((try? String(contentsOfFile: logs.file("out"), encoding: .utf8)) ?? "")")
            }
            usleep(20_000)
        }
        // One byte changed in the middle of the large layer's entry, in place.
        let script = """
            import sys, tarfile
            path = sys.argv[1]
            with tarfile.open(path) as t:
                victim = max((m for m in t.getmembers() if m.name.startswith('payload/images/blobs/')), key=lambda m: m.size)
            with open(path, 'r+b') as f:
                f.seek(victim.offset_data + victim.size // 2)
                b = f.read(1)
                f.seek(-1, 1)
                f.write(bytes([b[0] ^ 0x01]))
            print(victim.name[len('payload/'):])
            """
        let damaged = try runCommand(["python3", "-c", script, out.file("site.bundle")]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(damaged.hasPrefix("images/blobs/sha256/"))
        let digest = "sha256:" + damaged.dropFirst("images/blobs/sha256/".count)

        let status = child.wait(timeout: 120)
        let output = (try? String(contentsOfFile: logs.file("out"), encoding: .utf8)) ?? ""
        #expect(status == 1, "\(output)")
        #expect(output.contains(damaged) && output.contains("changed while it was pushed"), "\(output)")
        let requests = registryRequests(registry)
        // Its bytes streamed (PATCH) but its upload was never closed; no manifest and no tag was put.
        #expect(requests.contains { $0.hasPrefix("PATCH /v2/site/team/big/blobs/uploads/") }, "\(requests)")
        #expect(!requests.contains { $0.hasPrefix("PUT ") && $0.contains(digest) }, "\(requests)")
        #expect(!requests.contains { $0.hasPrefix("PUT ") && $0.contains("/manifests/") }, "\(requests)")
        let head = try runCommand(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-I",
                                   registry.baseURL + "/v2/site/team/big/blobs/" + digest])
        #expect(head == "404", "\(head)")
    }

    /// The connection breaks 4 MiB into the first 8 MiB chunk of a 20 MiB layer, before the
    /// registry saw any of it: the chunk in hand is sent again from the offset the registry
    /// reports (--retries 0: the upload resumes, not the transport), and the layer arrives whole.
    @Test func aChunkResetBeforeTheRegistrySawItIsSentAgainFromTheChunkInHand() throws {
        let project = try PushProject(customChart: false, largeLayer: 20 << 20)
        let out = try TemporaryDirectory(prefix: "chartsync-bundlepush")
        let bundled = try CLI.run(["bundle", "-o", out.file("site.bundle")], in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        let registry = try RegistryServer()
        defer { registry.stop() }
        let proxy = try FaultServer()
        defer { proxy.stop() }
        try proxy.proxy(to: registry.baseURL)
        let uploads = "/v2/site/team/big/blobs/uploads/"
        try proxy.plan("PATCH", prefix: uploads, [.resetRequest(after: 4 << 20), .forward()])

        let run = try CLI.run(["push", out.file("site.bundle"), "--registry", "127.0.0.1:\(proxy.port)/site", "--plain-http",
                               "--retries", "0", "--json"], in: out.path)
        #expect(run.status == 0, "\(run.stderr)\n\(registry.log().suffix(3000))")
        let patches = try proxy.requests().filter { $0.method == "PATCH" && $0.path.hasPrefix(uploads) }
        let ranges = patches.map { $0.contentRange ?? "" }
        #expect(ranges.count == 4 && ranges.prefix(3) == ["0-8388607", "0-8388607", "8388608-16777215"]
                && ranges.last?.hasPrefix("16777216-") == true, "\(ranges)")
        let big = try #require(project.images.first { $0.key.hasSuffix("team/big:1.0") })
        #expect(try RegistryAccess(registry).manifestDigest("site/team/big:1.0") == big.value)
    }

    /// A registry that will not mount (202 to `POST ?mount=`): the blobs team/oci-app shares with
    /// team/docker-app (uploaded there first, in the order of images/index.json) are uploaded into
    /// it in one more pass over the bundle.
    @Test func aRefusedMountIsUploadedInOneMorePass() throws {
        let project = try PushProject(customChart: false)
        let out = try TemporaryDirectory(prefix: "chartsync-bundlepush")
        let bundled = try CLI.run(["bundle", "-o", out.file("site.bundle")], in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        let registry = try RegistryServer()
        defer { registry.stop() }
        let proxy = try FaultServer()
        defer { proxy.stop() }
        try proxy.proxy(to: registry.baseURL)
        // team/oci-app needs only the config and layer of team/docker-app: its first two POSTs are the mounts.
        let uploads = "/v2/site/team/oci-app/blobs/uploads/"
        try proxy.plan("POST", prefix: uploads, [.status(202), .status(202), .forward()])

        let run = try CLI.run(["push", out.file("site.bundle"), "--registry", "127.0.0.1:\(proxy.port)/site", "--plain-http",
                               "--json"], in: out.path)
        #expect(run.status == 0, "\(run.stderr)\n\(registry.log().suffix(3000))")
        let posts = try proxy.requests().filter { $0.method == "POST" && $0.path.hasPrefix(uploads) }.map(\.path)
        #expect(posts.count == 4 && posts.prefix(2).allSatisfy { $0.contains("mount=") }
                && posts.dropFirst(2).allSatisfy { !$0.contains("mount=") }, "\(posts)")
        let blobs = try jsonObject(run)["blobs"] as? [String: Any] ?? [:]
        #expect(blobs["mounted"] as? Int == 0, "\(blobs)")
        let reference = project.source.reference("team/oci-app", tag: "1.0")
        #expect(try RegistryAccess(registry).manifestDigest("site/team/oci-app:1.0") == project.images[reference])
    }

    /// Ctrl-C while a chunk of a large layer hangs and other blobs are on their way: exit 130 at
    /// once, every worker stopped; the next push sends what is missing.
    @Test func ctrlCStopsEveryUploadThenTheNextPushCompletes() throws {
        let project = try PushProject(customChart: false, largeLayer: 20 << 20)
        let out = try TemporaryDirectory(prefix: "chartsync-bundlepush")
        let bundled = try CLI.run(["bundle", "-o", out.file("site.bundle")], in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        let registry = try RegistryServer()
        defer { registry.stop() }
        let proxy = try FaultServer()
        defer { proxy.stop() }
        try proxy.proxy(to: registry.baseURL)
        try proxy.plan("PATCH", prefix: "/v2/site/team/big/blobs/uploads/", [.forward(delay: 60), .forward()])
        let target = ["--registry", "127.0.0.1:\(proxy.port)/site", "--plain-http", "--jobs", "4"]

        let logs = try TemporaryDirectory(prefix: "chartsync-log")
        let child = try ChildProcess([CLI.binary, "push", out.file("site.bundle")] + target, outputPath: logs.file("out"))
        let deadline = Date().addingTimeInterval(60)
        while try !proxy.requests().contains(where: { $0.method == "PATCH" }) {
            guard child.isRunning, Date() < deadline else {
                throw SupportError("no PATCH: \((try? String(contentsOfFile: logs.file("out"), encoding: .utf8)) ?? "")")
            }
            usleep(20_000)
        }
        let started = Date()
        kill(child.pid, SIGINT)
        let status = child.wait(timeout: 30)
        let output = (try? String(contentsOfFile: logs.file("out"), encoding: .utf8)) ?? ""
        #expect(status == 130, "\(output)")
        #expect(Date().timeIntervalSince(started) < 10, "the stalled upload was not abandoned at once")
        #expect(output.contains("interrupted"), "\(output)")
        #expect(!registryRequests(registry).contains { $0.hasPrefix("PUT ") && $0.contains("/manifests/") })

        let resumed = try CLI.run(["push", out.file("site.bundle")] + target + ["--json"], in: out.path)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let big = try #require(project.images.first { $0.key.hasSuffix("team/big:1.0") })
        #expect(try RegistryAccess(registry).manifestDigest("site/team/big:1.0") == big.value)
    }
}

import ChartSyncTestSupport
import Foundation
import Testing

/// `verify BUNDLE --extract DIR` as a site installer, on the built binary: which directories it
/// may replace, the installed-state record in DIR/.chartsync, and the refusals (rollback, a
/// reused sequence number, another delivery, files the site added). Every refusal leaves DIR
/// and its parent byte for byte as they were.
@Suite struct SiteInstallTests {
    /// A site directory's parent and the site's path in it.
    private struct Sites {
        let parent: TemporaryDirectory
        var site: String { parent.file("site") }
        init() throws { parent = try TemporaryDirectory(prefix: "chartsync-sites") }
    }

    /// The state a refusal must not change: the site's tree, its inode, and its parent's entries.
    private struct Before: Equatable {
        let tree: [String]
        let inode: String
        let parent: [String]
        init(_ sites: Sites) throws {
            tree = try treeSnapshot(sites.site)
            inode = try inodeNumber(sites.site)
            parent = try entries(sites.parent.path)
        }
    }

    private func extract(_ bundle: String, _ site: String, _ extra: [String] = []) throws -> CLI.Run {
        try CLI.run(["verify", bundle, "--extract", site] + extra, in: (site as NSString).deletingLastPathComponent)
    }

    /// hello-web 1.0.0 as delivery "site" #1 and hello-web ~1.1 (1.1.0) as "site" #2, made by
    /// one project (kept, with the bundles' directory, for as long as the value lives).
    private struct Deliveries {
        let project: ExampleProject
        let bundles: TemporaryDirectory
        let first: String
        let second: String

        init() throws {
            project = try ExampleProject()
            bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
            first = try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: bundles.file("site-1.bundle"))
            second = try project.bundle(hello: "~1.1", name: "site", sequence: 2, to: bundles.file("site-2.bundle"))
        }
    }

    private func installed(_ site: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: site + "/.chartsync/installed.json"))
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The SHA-256 of the MANIFEST entry inside a (zstd) bundle, read by zstd and tar.
    private func manifestDigest(ofBundle bundle: String) throws -> String {
        "sha256:" + String(try runCommand(["sh", "-c", "zstd -dc \"$0\" | tar -xOf - MANIFEST | sha256sum", bundle]).prefix(64))
    }

    // MARK: - Which directories may be replaced

    /// A directory chartsync did not create is refused (exit 2) with what it holds named; it and
    /// its parent stay exactly as they were. A regular file in DIR's place is refused too.
    @Test func foreignDirectoryIsRefused() throws {
        let project = try ExampleProject()
        let bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
        let bundle = try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: bundles.file("site.bundle"))
        let parent = try TemporaryDirectory(prefix: "chartsync-sites")
        let precious = parent.file("precious")
        try parent.write("precious/docs/runbook.md", Array("# How we run this site\n".utf8))
        try parent.write("precious/notes.txt", Array("keep me\n".utf8))
        let tree = try treeSnapshot(precious)
        let run = try extract(bundle, precious)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("\(precious) is not empty and is not a chartsync site (no .chartsync/installed.json): it holds "), "\(run.stderr)")
        #expect(run.stderr.contains("docs") && run.stderr.contains("notes.txt"), "\(run.stderr)")
        #expect(run.stderr.contains("chartsync never replaces a directory it did not create"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(try treeSnapshot(precious) == tree)
        #expect(try entries(parent.path) == ["precious"])

        try parent.write("plain-file", Array("not a directory\n".utf8))
        let file = try extract(bundle, parent.file("plain-file"))
        #expect(file.status == 2, "\(file.stderr)")
        #expect(file.stderr.contains("\(parent.file("plain-file")) is a regular file, not a directory; not replacing it"), "\(file.stderr)")
        #expect(try String(contentsOfFile: parent.file("plain-file"), encoding: .utf8) == "not a directory\n")
        #expect(try entries(parent.path) == ["plain-file", "precious"])
    }

    /// An empty directory and a missing one are accepted: each becomes a marked site, and
    /// nothing else appears beside it.
    @Test(arguments: [true, false])
    func emptyOrMissingDirectoryIsAccepted(_ empty: Bool) throws {
        let project = try ExampleProject()
        let bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
        let bundle = try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: bundles.file("site.bundle"))
        let sites = try Sites()
        if empty { try FileManager.default.createDirectory(atPath: sites.site, withIntermediateDirectories: false) }
        let run = try extract(bundle, sites.site)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("  extracted to \(sites.site)\n"), "\(run.stdout)")
        #expect(run.stdout.contains("  added    hello-web 1.0.0"), "\(run.stdout)")
        #expect(try entries(sites.site) == [".chartsync", "charts", "chartsync.yaml", "index.yaml", "versions.lock"])
        #expect(try entries(sites.site + "/.chartsync") == ["MANIFEST", "installed.json"])
        #expect(try entries(sites.site + "/charts/external") == ["hello-web-1.0.0.tgz"])
        #expect(try entries(sites.parent.path) == ["site"])
    }

    /// A destination whose parent does not exist is refused (exit 2) with the parent named;
    /// nothing is created.
    @Test func missingParentIsRefused() throws {
        let project = try ExampleProject()
        let bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
        let bundle = try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: bundles.file("site.bundle"))
        let parent = try TemporaryDirectory(prefix: "chartsync-sites")
        let site = parent.file("absent/site")
        let run = try CLI.run(["verify", bundle, "--extract", site], in: parent.path)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("\(site): its parent directory \(parent.file("absent")) does not exist"), "\(run.stderr)")
        #expect(try entries(parent.path).isEmpty)
    }

    /// A file that cannot be written in full (here: beyond the file size limit, so its writes fail
    /// with EFBIG on the thread that writes the blocks) stops the extraction: the installed site
    /// and its parent stay as they were, no staging directory is left. Without the limit the same
    /// bundle installs, the file byte for byte.
    @Test func aWriteThatFailsLeavesTheSiteAsItWas() throws {
        let project = try ExampleProject()
        let bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
        let first = try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: bundles.file("site-1.bundle"))
        try project.project.setChartList(ExampleProject.chartList(hello: "1.0.0") + "bundle:\n  include:\n    - \"data/\"\n")
        let big = testBytes(count: 3 << 20 + 12_345, seed: 3)
        let bigFile = try project.project.directory.write("data/big.bin", big)
        let second = bundles.file("site-2.bundle")
        let made = try CLI.run(["bundle", "-o", second, "--name", "site", "--sequence", "2"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        let sites = try Sites()
        let one = try extract(first, sites.site)
        #expect(one.status == 0, "\(one.stderr)")
        let before = try Before(sites)

        // At most 1 MiB (dash counts 512-byte blocks) or 2 MiB (bash) per file, SIGXFSZ ignored.
        let limited = try CLI.run(["verify", second, "--extract", sites.site], in: sites.parent.path,
                                  launcher: ["/bin/sh", "-c", "trap '' XFSZ; ulimit -f 2048; exec \"$@\"", "sh"])
        #expect(limited.status == 1, "\(limited.stderr)")
        #expect(limited.stderr.contains("cannot extract entry \"payload/data/big.bin\""), "\(limited.stderr)")
        #expect(limited.stderr.contains("File too large"), "\(limited.stderr)")
        #expect(try Before(sites) == before)

        let run = try extract(second, sites.site)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try sha256Hex(of: sites.site + "/data/big.bin") == sha256Hex(of: bigFile))
        #expect(try entries(sites.parent.path) == ["site"])
    }

    // MARK: - The installed-state record and the refusals

    /// #1 then #2: the output and --json say what changed, and DIR/.chartsync records #2 with the
    /// digest of the MANIFEST the bundle carries; the site holds #2's charts only.
    @Test func updateRecordsTheDeliveryAndWhatChanged() throws {
        let deliveries = try Deliveries()
        let (first, second) = (deliveries.first, deliveries.second)
        let sites = try Sites()
        let one = try extract(first, sites.site)
        #expect(one.status == 0, "\(one.stderr)")
        let two = try extract(second, sites.site)
        #expect(two.status == 0, "\(two.stderr)")
        #expect(two.stdout.contains("  site #2: 1 chart(s)"), "\(two.stdout)")
        #expect(two.stdout.contains("  extracted to \(sites.site) (replacing site #1)\n"), "\(two.stdout)")
        #expect(two.stdout.contains("  updated  hello-web 1.0.0 -> 1.1.0\n"), "\(two.stdout)")
        #expect(!two.stdout.contains("added") && !two.stdout.contains("removed"), "\(two.stdout)")

        let record = try installed(sites.site)
        #expect(record["format"] as? String == "chartsync-installed/1")
        #expect(record["name"] as? String == "site")
        #expect(record["sequence"] as? Int == 2)
        let digest = try manifestDigest(ofBundle: second)
        #expect(record["manifest"] as? String == digest)
        #expect("sha256:" + (try sha256Hex(of: sites.site + "/.chartsync/MANIFEST")) == digest)
        #expect(try entries(sites.site + "/charts/external") == ["hello-web-1.1.0.tgz"])
        let index = try String(contentsOfFile: sites.site + "/index.yaml", encoding: .utf8)
        #expect(index.contains("hello-web-1.1.0.tgz") && !index.contains("1.0.0"), "\(index)")
        #expect(try entries(sites.parent.path) == ["site"])

        // The same through --json, into a second site.
        let other = sites.parent.file("json-site")
        #expect(try extract(first, other).status == 0)
        let json = try extract(second, other, ["--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let document = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let site = try #require(document["site"] as? [String: Any])
        #expect(site["updated"] as? [String] == ["hello-web 1.0.0 -> 1.1.0"])
        #expect(site["added"] as? [String] == [] && site["removed"] as? [String] == [])
        #expect(site["previous"] as? String == "site #1")
        #expect(site["alreadyInstalled"] as? Bool == false)
        #expect(document["extractedTo"] as? String == other)
    }

    /// An older delivery of the installed name is refused (exit 1), naming --allow-downgrade;
    /// with the flag the site is rolled back to it.
    @Test func rollbackIsRefusedUnlessAllowed() throws {
        let deliveries = try Deliveries()
        let (first, second) = (deliveries.first, deliveries.second)
        let sites = try Sites()
        #expect(try extract(second, sites.site).status == 0)
        let before = try Before(sites)
        let run = try extract(first, sites.site)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("\(sites.site) has delivery \"site\" #2 installed; this bundle is delivery \"site\" #1, an older delivery: refusing to roll the site back (--allow-downgrade to do it on purpose)"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(try Before(sites) == before)

        let allowed = try extract(first, sites.site, ["--allow-downgrade"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout.contains("(replacing site #2)") && allowed.stdout.contains("  updated  hello-web 1.1.0 -> 1.0.0"), "\(allowed.stdout)")
        #expect(try entries(sites.site + "/charts/external") == ["hello-web-1.0.0.tgz"])
        #expect(try installed(sites.site)["sequence"] as? Int == 1)
        #expect(try installed(sites.site)["manifest"] as? String == manifestDigest(ofBundle: first))
        #expect(try entries(sites.parent.path) == ["site"])
    }

    /// The installed delivery again: exit 0, "already installed", and the directory is not
    /// touched (same tree, same inode).
    @Test func sameDeliveryAgainChangesNothing() throws {
        let deliveries = try Deliveries()
        let second = deliveries.second
        let sites = try Sites()
        #expect(try extract(second, sites.site).status == 0)
        let before = try Before(sites)
        let again = try extract(second, sites.site)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("  already installed in \(sites.site); nothing changed"), "\(again.stdout)")
        #expect(!again.stdout.contains("extracted to"), "\(again.stdout)")
        #expect(try Before(sites) == before)
    }

    /// Another bundle under the installed sequence number is refused (exit 1) as two deliveries
    /// under one number; --allow-downgrade installs it on purpose.
    @Test func anotherDeliveryUnderTheInstalledNumberIsRefused() throws {
        let deliveries = try Deliveries()
        let (project, bundles, second) = (deliveries.project, deliveries.bundles, deliveries.second)
        try project.project.directory.write("charts/patches/hello-web/replicas.yaml", Array("replicas: 3\n".utf8))
        let twin = try project.bundle(hello: "~1.1", name: "site", sequence: 2, to: bundles.file("site-2b.bundle"))
        let sites = try Sites()
        #expect(try extract(second, sites.site).status == 0)
        let before = try Before(sites)
        let run = try extract(twin, sites.site)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("\(sites.site) has delivery \"site\" #2 installed (manifest \(try manifestDigest(ofBundle: second)))"), "\(run.stderr)")
        #expect(run.stderr.contains("this bundle is also #2 but its manifest is \(try manifestDigest(ofBundle: twin)): two different deliveries under one number"), "\(run.stderr)")
        #expect(try Before(sites) == before)

        let allowed = try extract(twin, sites.site, ["--allow-downgrade"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(FileManager.default.fileExists(atPath: sites.site + "/charts/patches/hello-web/replicas.yaml"))
    }

    /// A delivery of another name is refused (exit 2) unless --replace.
    @Test func anotherNameNeedsReplace() throws {
        let deliveries = try Deliveries()
        let (project, bundles, first) = (deliveries.project, deliveries.bundles, deliveries.first)
        let lab = try project.bundle(hello: "~1.1", name: "lab", sequence: 9, to: bundles.file("lab.bundle"))
        let sites = try Sites()
        #expect(try extract(first, sites.site).status == 0)
        let before = try Before(sites)
        let run = try extract(lab, sites.site)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("\(sites.site) has delivery \"site\" #1 installed; this bundle is delivery \"lab\" #9, another delivery (--replace to replace it)"), "\(run.stderr)")
        #expect(try Before(sites) == before)

        let replaced = try extract(lab, sites.site, ["--replace"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(replaced.stdout.contains("(replacing site #1)"), "\(replaced.stdout)")
        #expect(try installed(sites.site)["name"] as? String == "lab")
        #expect(try installed(sites.site)["sequence"] as? Int == 9)
        #expect(try entries(sites.site + "/charts/external") == ["hello-web-1.1.0.tgz"])
    }

    /// Files the site added inside DIR block the next delivery (exit 2), each named; DIR stays
    /// as it was. Moved out, the delivery goes in.
    @Test func filesTheSiteAddedBlockTheNextDelivery() throws {
        let deliveries = try Deliveries()
        let (first, second) = (deliveries.first, deliveries.second)
        let sites = try Sites()
        #expect(try extract(first, sites.site).status == 0)
        try Data("our own notes\n".utf8).write(to: URL(fileURLWithPath: sites.site + "/site-notes.txt"))
        try FileManager.default.createDirectory(atPath: sites.site + "/charts/custom/local", withIntermediateDirectories: true)
        try Data("replicas: 5\n".utf8).write(to: URL(fileURLWithPath: sites.site + "/charts/custom/local/values.yaml"))
        let before = try Before(sites)
        let run = try extract(second, sites.site)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("\(sites.site) holds files its delivery did not write: "), "\(run.stderr)")
        #expect(run.stderr.contains("site-notes.txt") && run.stderr.contains("charts/custom/local/values.yaml"), "\(run.stderr)")
        #expect(run.stderr.contains("(nothing was changed)"), "\(run.stderr)")
        #expect(try Before(sites) == before)

        try FileManager.default.removeItem(atPath: sites.site + "/site-notes.txt")
        try FileManager.default.removeItem(atPath: sites.site + "/charts/custom/local")
        let moved = try extract(second, sites.site)
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(try installed(sites.site)["sequence"] as? Int == 2)
    }
}

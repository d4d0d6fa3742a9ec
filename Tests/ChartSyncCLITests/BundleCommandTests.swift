import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync bundle`, `inspect`, `keygen` and `verify BUNDLE` on the built binary, end to end.
@Suite struct BundleCommandTests {
    /// A pulled copy of the project's own example (chart list, lock, vendored charts), plus a
    /// custom chart and a patch so every tree is carried.
    private func project() throws -> PullProject {
        let project = try PullProject(chartList: try String(contentsOfFile: Fixtures.packageRoot + "/chartsync.yaml", encoding: .utf8))
        try FileManager.default.createSymbolicLink(atPath: project.path + "/examples", withDestinationPath: Fixtures.packageRoot + "/examples")
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        try project.directory.write("charts/custom/site-config/Chart.yaml", Array("apiVersion: v2\nname: site-config\nversion: 0.1.0\n".utf8))
        try project.directory.write("charts/patches/hello-web/replicas.yaml", Array("- op: replace\n  path: /spec/replicas\n  value: 3\n".utf8))
        try project.directory.write("charts/patches/apply.sh", Array("#!/bin/sh\nkustomize build .\n".utf8))
        chmod(project.path + "/charts/patches/apply.sh", 0o755)
        return project
    }

    private func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> CLI.Run {
        try CLI.run(arguments, in: directory, environment: environment)
    }

    @Test func roundTripServesAsAHelmRepository() throws {
        let project = try project()
        let out = try TemporaryDirectory()
        let bundle = out.file("site.bundle")
        let made = try run(["bundle", "-o", bundle, "--name", "site-a", "--sequence", "7"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(FileManager.default.fileExists(atPath: bundle + ".sha256"))
        // The sidecar is sha256sum's format.
        #expect(try runCommand(["sh", "-c", "cd \"$0\" && sha256sum -c site.bundle.sha256", out.path]).contains("site.bundle: OK"))

        let inspected = try run(["inspect", bundle], in: out.path)
        #expect(inspected.status == 0)
        #expect(inspected.stdout.contains("site-a #7") && inspected.stdout.contains("hello-web 1.1.0"), "\(inspected.stdout)")

        let site = out.file("site")
        let verified = try run(["verify", bundle, "--extract", site], in: out.path)
        #expect(verified.status == 0, "\(verified.stderr)")
        for file in ["versions.lock", "chartsync.yaml", "charts/external/hello-web-1.1.0.tgz", "charts/external/hello-web-v1.1.0/Chart.yaml",
                     "charts/custom/site-config/Chart.yaml", "charts/patches/hello-web/replicas.yaml", "index.yaml"] {
            #expect(FileManager.default.fileExists(atPath: site + "/" + file), "\(file)")
        }
        #expect(FileManager.default.isExecutableFile(atPath: site + "/charts/patches/apply.sh"))
        #expect(try String(contentsOfFile: site + "/versions.lock", encoding: .utf8) == project.read("versions.lock"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["site", "site.bundle", "site.bundle.sha256"])

        // Any static server can now serve the site as a Helm repository: real Helm pulls from it.
        let nginx = try StaticServer(root: site)
        defer { nginx.stop() }
        let answers = try Helm.resolve([Helm.Case(repo: nginx.url(""), chart: "hello-web", version: "~1.1"),
                                        Helm.Case(repo: nginx.url(""), chart: "hello-common", version: nil)])
        #expect(answers.map(\.file) == ["hello-web-1.1.0.tgz", "hello-common-2.0.1.tgz"], "\(answers.map(\.error))")
    }

    @Test(arguments: ["zstd", "gzip", "none"])
    func reproducibleAndReadableByStockTools(_ compression: String) throws {
        let project = try project()
        let out = try TemporaryDirectory()
        let first = try run(["bundle", "-o", out.file("a"), "--compression", compression], in: project.path,
                            environment: ["SOURCE_DATE_EPOCH": "1767225600"])
        #expect(first.status == 0, "\(first.stderr)")
        // Other mtimes and permissions on disk: same bytes.
        try runCommand(["sh", "-c", "find \"$0\" -type f -exec touch -d @1000 {} + && chmod -R g+w \"$0/charts\"", project.path])
        let second = try run(["bundle", "-o", out.file("b"), "--compression", compression], in: project.path,
                             environment: ["SOURCE_DATE_EPOCH": "1767225600"])
        #expect(second.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out.file("a"))) == Data(contentsOf: URL(fileURLWithPath: out.file("b"))))
        let list = compression == "zstd"
            ? try runCommand(["sh", "-c", "zstd -dc \"$0\" | tar -tvf -", out.file("a")])
            : try runCommand(["tar", "-tvf", out.file("a")])
        #expect(list.contains("payload/charts/external/hello-web-1.1.0.tgz"))
        #expect(list.contains("2026-01-01"), "\(list)")
        #expect(list.split(separator: "\n").first?.hasSuffix("MANIFEST") == true)
    }

    @Test func splitPartsRejoinAndABadPartIsNamed() throws {
        let project = try project()
        let big = testBytes(count: 300_000, seed: 3)
        try project.directory.write("charts/custom/blob/data.bin", big)
        let out = try TemporaryDirectory()
        let made = try run(["bundle", "-o", out.file("site.bundle"), "--split-size", "64K", "--compression", "none"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names.contains("site.bundle.000") && names.contains("site.bundle.004") && names.contains("site.bundle.parts"), "\(names)")
        #expect(try runCommand(["sh", "-c", "cd \"$0\" && sha256sum -c site.bundle.sha256 | grep -c OK", out.path]).trimmingCharacters(in: .whitespacesAndNewlines) == String(names.count - 1))
        let size = try FileManager.default.attributesOfItem(atPath: out.file("site.bundle.000"))[.size] as? Int
        #expect(size == 65536)
        // cat of the parts is an ordinary tar.
        #expect(try runCommand(["sh", "-c", "cat \"$0\"/site.bundle.0* | tar -tf - | grep -c data.bin", out.path]).hasPrefix("1"))
        let ok = try run(["verify", out.file("site.bundle.000"), "--extract", out.file("site")], in: out.path)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out.file("site/charts/custom/blob/data.bin"))) == Data(big))

        // Flip one byte in part 2: that part is named, the extracted site stays as it was.
        let before = try runCommand(["sh", "-c", "cd \"$0\" && find . -type f | LC_ALL=C sort | xargs sha256sum", out.file("site")])
        try runCommand(["sh", "-c", "printf 'X' | dd of=\"$0\" bs=1 seek=1000 conv=notrunc 2>/dev/null", out.file("site.bundle.002")])
        let bad = try run(["verify", out.file("site.bundle"), "--extract", out.file("site")], in: out.path)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("site.bundle.002"), "\(bad.stderr)")
        #expect(try runCommand(["sh", "-c", "cd \"$0\" && find . -type f | LC_ALL=C sort | xargs sha256sum", out.file("site")]) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.contains("staging") }.isEmpty)
    }

    @Test func signedBundles() throws {
        let project = try project()
        let keys = try TemporaryDirectory()
        #expect(try run(["keygen", keys.file("release.key")], in: keys.path).status == 0)
        #expect(try run(["keygen", keys.file("other.key")], in: keys.path).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: keys.file("release.key"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try run(["keygen", keys.file("release.key")], in: keys.path).status == 2, "never overwrites a key")

        let out = try TemporaryDirectory()
        #expect(try run(["bundle", "-o", out.file("signed"), "--sign-key", keys.file("release.key")], in: project.path).status == 0)
        #expect(try run(["bundle", "-o", out.file("unsigned")], in: project.path).status == 0)

        let good = try run(["verify", out.file("signed"), "--trusted-key", keys.file("release.key.pub"), "--json"], in: out.path)
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("\"signatureVerified\" : true"))
        let inspected = try run(["inspect", out.file("signed")], in: out.path)
        #expect(inspected.stdout.contains("signer:    SHA256:"))

        let wrongKey = try run(["verify", out.file("signed"), "--trusted-key", keys.file("other.key.pub"), "--extract", out.file("site")], in: out.path)
        #expect(wrongKey.status == 1)
        #expect(wrongKey.stderr.contains("not by the trusted key"), "\(wrongKey.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.file("site")))

        let unsigned = try run(["verify", out.file("unsigned"), "--trusted-key", keys.file("release.key.pub")], in: out.path)
        #expect(unsigned.status == 1)
        #expect(unsigned.stderr.contains("is not signed, and a trusted key was given"), "\(unsigned.stderr)")
    }

    @Test func bundleRefusesChartsThatDoNotMatchTheLock() throws {
        let project = try project()
        try project.directory.write("charts/external/hello-worker-0.5.0.tgz", Array("tampered".utf8))
        try project.directory.write("charts/external/stray-1.0.0.tgz", Array("stray".utf8))
        let out = try TemporaryDirectory()
        let run = try run(["bundle", "-o", out.file("b")], in: project.path)
        #expect(run.status == 1)
        #expect(run.stderr.contains("charts/external/hello-worker-0.5.0.tgz: expected sha256:"), "\(run.stderr)")
        #expect(run.stderr.contains("charts/external/stray-1.0.0.tgz: not listed in versions.lock"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }

    @Test func truncatedBundleLeavesTheSiteAsItWas() throws {
        let project = try project()
        let out = try TemporaryDirectory()
        #expect(try run(["bundle", "-o", out.file("b"), "--compression", "gzip"], in: project.path).status == 0)
        #expect(try run(["verify", out.file("b"), "--extract", out.file("site")], in: out.path).status == 0)
        let before = try runCommand(["sh", "-c", "cd \"$0\" && find . | LC_ALL=C sort && find . -type f | LC_ALL=C sort | xargs sha256sum", out.file("site")])
        let size = try FileManager.default.attributesOfItem(atPath: out.file("b"))[.size] as! Int
        try runCommand(["truncate", "-s", String(size / 2), out.file("b")])
        try FileManager.default.removeItem(atPath: out.file("b.sha256"))
        let bad = try run(["verify", out.file("b"), "--extract", out.file("site")], in: out.path)
        #expect(bad.status == 1 || bad.status == 3)
        #expect(bad.stderr.contains(out.file("b")) || bad.stderr.contains("truncated") || bad.stderr.contains("ends inside"), "\(bad.stderr)")
        #expect(try runCommand(["sh", "-c", "cd \"$0\" && find . | LC_ALL=C sort && find . -type f | LC_ALL=C sort | xargs sha256sum", out.file("site")]) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["b", "site"])
    }

    /// A split size that is not a positive whole size, or is more bytes than 64 bits count, is a
    /// usage error naming the value; nothing is written.
    @Test(arguments: ["9999999999T", "8388608T", "99999999999999999999", "0", "0K", "1.5G", "4Q"])
    func badSplitSizeIsUsageError(_ size: String) throws {
        let out = try TemporaryDirectory()
        let run = try run(["bundle", "-o", out.file("b"), "--split-size", size], in: out.path)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("'\(size)'") && run.stderr.contains("--split-size"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }

    /// An unknown compression is a usage error that lists the known ones.
    @Test(arguments: ["lz4", "ZSTD", ""])
    func unknownCompressionIsUsageError(_ compression: String) throws {
        let out = try TemporaryDirectory()
        let run = try run(["bundle", "-o", out.file("b"), "--compression", compression], in: out.path)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("'\(compression)'") && run.stderr.contains("'zstd', 'gzip' or 'none'"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }
}

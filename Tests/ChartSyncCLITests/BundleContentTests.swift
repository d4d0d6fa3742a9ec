import ChartSyncTestSupport
import Foundation
import Testing

/// What `chartsync bundle` carries and refuses, and how split bundles are read, end to end on the
/// built binary.
@Suite struct BundleContentTests {
    /// Dotfiles inside charts travel (an unpacked chart's `.helmignore` and
    /// `templates/.schema.yaml`, a custom chart's `.helmignore`), so the extracted site passes the
    /// gate; a `.gitkeep` directly in charts/external stays behind.
    @Test func dotfilesInChartsTravelAndTheSitePassesTheGate() throws {
        let project = try PullProject(chartList: """
            repositories:
              - name: local
                url: repo
            charts:
              - name: dotty
                repository: local
                version: "1.0.0"
                unpack: true

            """)
        let dotfiles = ["dotty/.helmignore": "# patterns helm ignores\n*.orig\n",
                        "dotty/templates/.schema.yaml": "type: object\n",
                        "dotty/Chart.yaml": "apiVersion: v2\nname: dotty\nversion: 1.0.0\n",
                        "dotty/values.yaml": "replicas: 1\n"]
        let build = try TemporaryDirectory(prefix: "chartsync-chart")
        for (path, text) in dotfiles { try build.write(path, Array(text.utf8)) }
        try FileManager.default.createDirectory(atPath: project.path + "/repo", withIntermediateDirectories: true)
        try runCommand(["tar", "-czf", project.path + "/repo/dotty-1.0.0.tgz", "-C", build.path, "dotty"])
        let indexed = try CLI.run(["index", "repo"], in: project.path)
        #expect(indexed.status == 0, "\(indexed.stderr)")
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(project.exists("charts/external/dotty-v1.0.0/.helmignore"))
        try project.directory.write("charts/custom/site-chart/Chart.yaml", Array("apiVersion: v2\nname: site-chart\nversion: 0.1.0\n".utf8))
        try project.directory.write("charts/custom/site-chart/.helmignore", Array("secrets/\n".utf8))
        try project.directory.write("charts/external/.gitkeep", [])

        let out = try TemporaryDirectory(prefix: "chartsync-out")
        let made = try CLI.run(["bundle", "-o", out.file("dotty.bundle")], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        let list = try runCommand(["sh", "-c", "zstd -dc \"$0\" | tar -tf -", out.file("dotty.bundle")])
        #expect(list.contains("payload/charts/external/dotty-v1.0.0/.helmignore"), "\(list)")
        #expect(!list.contains(".gitkeep"), "\(list)")

        let site = out.file("site")
        let verified = try CLI.run(["verify", out.file("dotty.bundle"), "--extract", site], in: out.path)
        #expect(verified.status == 0, "\(verified.stderr)")
        for (path, text) in dotfiles {
            #expect(try String(contentsOfFile: site + "/charts/external/dotty-v1.0.0/" + path.dropFirst("dotty/".count), encoding: .utf8) == text, "\(path)")
        }
        #expect(try String(contentsOfFile: site + "/charts/custom/site-chart/.helmignore", encoding: .utf8) == "secrets/\n")
        #expect(try entries(site + "/charts/external") == ["dotty-1.0.0.tgz", "dotty-v1.0.0"])

        // The site is a tree the gate proves, as the project was.
        let gate = try CLI.run(["verify", "-f", site + "/chartsync.yaml"], in: site)
        #expect(gate.status == 0, "\(gate.stdout)\(gate.stderr)")
        #expect(gate.stdout.contains("verified 1 chart(s)"), "\(gate.stdout)")
    }

    /// A symbolic link in charts/external (to a file or a directory) is refused by `bundle` with
    /// exit 1, the gate's code for the same tree (which reports it as not-regular); nothing is
    /// written.
    @Test(arguments: ["a file", "a directory"])
    func symlinkInExternalIsRefused(_ target: String) throws {
        let project = try ExampleProject()
        try project.pull(hello: "1.0.0")
        let link = project.path + "/charts/external/extra-1.0.0.tgz"
        try FileManager.default.createSymbolicLink(
            atPath: link, withDestinationPath: target == "a file" ? project.path + "/charts/external/hello-web-1.0.0.tgz" : project.path + "/charts")
        let before = try project.project.snapshot()

        let gate = try CLI.run(["verify", "--json"], in: project.path)
        #expect(gate.status == 1, "\(gate.stdout)\(gate.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(gate.stdout.utf8)) as? [String: Any])
        let problems = report["problems"] as? [[String: Any]] ?? []
        #expect(problems.count == 1)
        #expect(problems.first?["code"] as? String == "not-regular", "\(problems)")
        #expect(problems.first?["file"] as? String == "charts/external/extra-1.0.0.tgz", "\(problems)")

        let out = try TemporaryDirectory(prefix: "chartsync-out")
        let run = try CLI.run(["bundle", "-o", out.file("site.bundle")], in: project.path)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("\(link) is a symbolic link; a bundle carries regular files only"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(try entries(out.path).isEmpty)
        #expect(try project.project.snapshot() == before)
    }

    /// A split size larger than the bundle still makes a split bundle: FILE.000 and always
    /// FILE.parts (and the sidecar), which verify reads as FILE or FILE.000.
    @Test func oneBigPartStillHasItsPartsFile() throws {
        let project = try ExampleProject()
        let out = try TemporaryDirectory(prefix: "chartsync-out")
        try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: out.file("site.bundle"), ["--split-size", "1G"])
        #expect(try entries(out.path) == ["site.bundle.000", "site.bundle.parts", "site.bundle.sha256"])
        let parts = try String(contentsOfFile: out.file("site.bundle.parts"), encoding: .utf8)
        #expect(parts.contains("site.bundle.000"), "\(parts)")
        #expect(try runCommand(["sh", "-c", "cd \"$0\" && sha256sum -c site.bundle.sha256", out.path]).contains("site.bundle.parts: OK"))
        for argument in ["site.bundle.000", "site.bundle"] {
            let verified = try CLI.run(["verify", out.file(argument)], in: out.path)
            #expect(verified.status == 0, "\(argument): \(verified.stderr)")
            #expect(verified.stdout.contains("verified \(out.file("site.bundle.000"))"), "\(verified.stdout)")
        }
    }

    /// A 3-part bundle: with part 001 gone (002 still there), only 001 is named missing; with a
    /// part beyond what FILE.parts lists, that part is named and the bundle refused (exit 1).
    /// Neither case extracts anything.
    @Test func missingAndExtraPartsAreNamed() throws {
        let project = try ExampleProject()
        try project.project.directory.write("charts/patches/blob.bin", testBytes(count: 3_000_000, seed: 11))
        let out = try TemporaryDirectory(prefix: "chartsync-out")
        try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: out.file("site.bundle"), ["--split-size", "1M", "--compression", "none"])
        #expect(try entries(out.path) == ["site.bundle.000", "site.bundle.001", "site.bundle.002", "site.bundle.parts", "site.bundle.sha256"])
        let site = out.file("site")
        #expect(try CLI.run(["verify", out.file("site.bundle.000")], in: out.path).status == 0)

        try FileManager.default.moveItem(atPath: out.file("site.bundle.001"), toPath: out.file("aside"))
        for argument in ["site.bundle.000", "site.bundle"] {
            let run = try CLI.run(["verify", out.file(argument), "--extract", site], in: out.path)
            #expect(run.status == 3, "\(argument): \(run.stderr)")
            #expect(run.stderr.contains("\(out.file("site.bundle.parts")) lists 3 parts; missing: \(out.file("site.bundle.001"))\n"), "\(run.stderr)")
            #expect(!run.stderr.contains("site.bundle.002"), "\(run.stderr)")
        }
        #expect(try entries(out.path) == ["aside", "site.bundle.000", "site.bundle.002", "site.bundle.parts", "site.bundle.sha256"])

        try FileManager.default.moveItem(atPath: out.file("aside"), toPath: out.file("site.bundle.001"))
        try FileManager.default.copyItem(atPath: out.file("site.bundle.002"), toPath: out.file("site.bundle.003"))
        let extra = try CLI.run(["verify", out.file("site.bundle.000"), "--extract", site], in: out.path)
        #expect(extra.status == 1, "\(extra.stderr)")
        #expect(extra.stderr.contains("\(out.file("site.bundle.parts")) lists 3 parts, but \(out.file("site.bundle.003")) is there too: not a part of this bundle"), "\(extra.stderr)")
        #expect(try entries(out.path) == ["site.bundle.000", "site.bundle.001", "site.bundle.002", "site.bundle.003", "site.bundle.parts", "site.bundle.sha256"])

        // Without the stray part the same bundle extracts.
        try FileManager.default.removeItem(atPath: out.file("site.bundle.003"))
        let good = try CLI.run(["verify", out.file("site.bundle.000"), "--extract", site], in: out.path)
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("verified 3 parts of \(out.file("site.bundle.000"))"), "\(good.stdout)")
    }
}

import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync search --repo oci://...`: Debian's docker-registry on 127.0.0.1 (plain HTTP) with
/// the example charts pushed as `helm push` does, under tags Helm writes (`+` as `_`).
@Suite struct SearchOCITests {
    private static let repo = Fixtures.packageRoot + "/examples/repo/"

    private static func registry() throws -> RegistryServer {
        let registry = try RegistryServer(options: .init())
        try registry.pushChart("charts/hello-web", tags: ["1.0.0", "1.1.0", "1.2.0-rc.1", "1.1.1_build.7", "latest"],
                               chart: repo + "hello-web-1.1.0.tgz")
        return registry
    }

    @Test func listsTagsAsVersionsWithHelmsRules() throws {
        let registry = try Self.registry()
        defer { registry.stop() }
        let repository = "oci://\(registry.name)/charts"

        // Newest stable by default; a build version is a version (1.1.1+build.7), `latest` is not.
        let newest = try CLI.run(["search", "--repo", repository, "hello-web", "--plain-http"])
        #expect(newest.status == 0, "\(newest.stderr)")
        #expect(newest.stdout.contains("hello-web  1.1.1+build.7"), "\(newest.stdout)")

        let constrained = try CLI.run(["search", "--repo", repository, "hello-web", "--version", "~1.0", "--plain-http"])
        #expect(constrained.stdout.contains("hello-web  1.0.0"), "\(constrained.stdout)")

        // --versions --devel: every version, prereleases too, newest first; `latest` never.
        let all = try CLI.run(["search", "--repo", repository, "hello-web", "--versions", "--devel", "--plain-http", "--json"])
        #expect(all.status == 0, "\(all.stderr)")
        let items = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
        #expect(items.compactMap { $0["version"] as? String } == ["1.2.0-rc.1", "1.1.1+build.7", "1.1.0", "1.0.0"])
        // Each with the manifest its tag names and its reference (the tag with `_` for `+`).
        #expect(items.allSatisfy { ($0["manifest"] as? String)?.range(of: "^sha256:[0-9a-f]{64}$", options: .regularExpression) != nil })
        #expect((items[1]["urls"] as? [String]) == ["\(repository)/hello-web:1.1.1_build.7"])
        #expect(Set(items.compactMap { $0["manifest"] as? String }).count == 1)  // one artifact under every tag
    }

    @Test func unknownChartAndPlainHTTPElsewhere() throws {
        let registry = try Self.registry()
        defer { registry.stop() }
        let missing = try CLI.run(["search", "--repo", "oci://\(registry.name)/charts", "nope", "--plain-http"])
        #expect(missing.status == 3, "\(missing.stderr)")
        #expect(missing.stderr.contains("charts/nope"), "\(missing.stderr)")
        let misuse = try CLI.run(["search", "--repo", Self.repo, "hello-web", "--plain-http"])
        #expect(misuse.status == 2, "\(misuse.stderr)")
        #expect(misuse.stderr.contains("--plain-http is for oci:// repositories"), "\(misuse.stderr)")
    }
}

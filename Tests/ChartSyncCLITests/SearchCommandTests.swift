import ChartSyncTestSupport
import Foundation
import Testing

private struct JSONItem: Decodable {
    let name: String
    let version: String
    let appVersion: String?
    let digest: String?
    let urls: [String]
    let created: String?
    let deprecated: Bool
}

private func decode(_ text: String) throws -> [JSONItem] {
    try JSONDecoder().decode([JSONItem].self, from: Data(text.utf8))
}

@Suite struct SearchCommandTests {
    struct Case: Sendable, CustomStringConvertible {
        let arguments: [String]
        let versions: [String]
        var description: String { arguments.joined(separator: " ") }
    }

    /// Against the embedded example repository, read as a local folder (file:// through libcurl).
    @Test(arguments: [
        Case(arguments: ["hello-web"], versions: ["1.1.0"]),
        Case(arguments: ["hello-web", "--devel"], versions: ["1.2.0-rc.1"]),
        Case(arguments: ["hello-web", "--versions"], versions: ["1.1.0", "1.0.0"]),
        Case(arguments: ["hello-web", "--versions", "--devel"], versions: ["1.2.0-rc.1", "1.1.0", "1.0.0"]),
        Case(arguments: ["hello-web", "--version", "~1.0"], versions: ["1.0.0"]),
        Case(arguments: ["hello-web", "--version", ">=1.2.0-0", "--versions"], versions: ["1.2.0-rc.1"]),
        Case(arguments: ["hello-web", "--version", "^1 <1.1", "--versions"], versions: ["1.0.0"]),
        Case(arguments: ["hello-web", "--version", "1.2.0-rc.1"], versions: ["1.2.0-rc.1"]),
        Case(arguments: ["hello-web", "--version", "2.x"], versions: []),
        Case(arguments: ["hello-common", "--version", "2.0.x || 3", "--versions"], versions: ["2.0.1", "2.0.0"]),
        Case(arguments: ["no-such-chart"], versions: []),
    ])
    func resolvesLikeHelm(_ c: Case) throws {
        let run = try CLI.run(["search", "--repo", "examples/repo", "--json"] + c.arguments)
        #expect(run.status == 0, "\(run.stderr)")
        let items = try decode(run.stdout)
        #expect(items.map(\.version) == c.versions)
        let repo = "file://" + Fixtures.packageRoot + "/examples/repo/"
        for item in items {
            #expect(item.urls == [repo + "\(item.name)-\(item.version).tgz"])
            #expect(item.digest?.hasPrefix("sha256:") == true && item.digest?.count == 71)
        }
    }

    @Test func tableListsNameVersionAndAppVersion() throws {
        let run = try CLI.run(["search", "--repo", "examples/repo", "hello-web", "--versions"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).prefix(3).joined(separator: " ") }
        #expect(lines == ["NAME VERSION APP", "hello-web 1.1.0 1.25.4", "hello-web 1.0.0 1.25.3"])
    }

    @Test(arguments: [">a1", "~>", "1.2.3.4", "^1 ||| 2", ""])
    func invalidConstraintIsUsageError(_ constraint: String) throws {
        let run = try CLI.run(["search", "--repo", "examples/repo", "hello-web", "--version", constraint])
        #expect(run.status == 2)
        #expect(run.stderr.contains("invalid version constraint"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test(arguments: ["../evil", "a/b", ""])
    func invalidChartNameIsUsageError(_ name: String) throws {
        let run = try CLI.run(["search", "--repo", "examples/repo", name])
        #expect(run.status == 2)
        #expect(run.stderr.contains("not a valid chart name"), "\(run.stderr)")
    }

    @Test func unreachableRepositoryIsExit3WithURLButNoCredentials() throws {
        let port = try LoopbackPort.closed()
        let run = try CLI.run(["search", "--repo", "http://alice:s3cret@127.0.0.1:\(port)/charts", "hello-web"],
                              environment: ["CHARTSYNC_PASSWORD": "hunter2", "CHARTSYNC_USERNAME": "bob"])
        #expect(run.status == 3)
        #expect(run.stderr.contains("http://127.0.0.1:\(port)/charts/index.yaml"), "\(run.stderr)")
        #expect(!run.stderr.contains("s3cret") && !run.stderr.contains("alice") && !run.stderr.contains("hunter2"))
    }

    @Test func missingLocalRepositoryIsExit3() throws {
        let run = try CLI.run(["search", "--repo", "/nonexistent/repo", "hello-web"])
        #expect(run.status == 3)
        #expect(run.stderr.contains("/nonexistent/repo/index.yaml"), "\(run.stderr)")
    }

    @Test func malformedIndexIsExit3WithLine() throws {
        let dir = try TemporaryDirectory()
        try dir.write("index.yaml", Array("apiVersion: v1\nentries:\n  a:\n  - name: a\n     version: 1\n".utf8))
        let run = try CLI.run(["search", "--repo", dir.path, "a"])
        #expect(run.status == 3)
        #expect(run.stderr.contains("index.yaml: line 5"), "\(run.stderr)")
    }

    /// Numbers that would overflow inside the transport (attempt counts, curl's millisecond
    /// timeouts) are usage errors naming the option, not crashes.
    @Test(arguments: [["--retries", "9223372036854775807"], ["--connect-timeout", "inf"], ["--connect-timeout", "nan"],
                      ["--connect-timeout", "1e300"], ["--stall-timeout", "9223372036854775807"]])
    func outOfRangeTransportNumberIsUsageError(_ option: [String]) throws {
        let run = try CLI.run(["search", "--repo", "examples/repo", "hello-web"] + option)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains(option[0]), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }
}

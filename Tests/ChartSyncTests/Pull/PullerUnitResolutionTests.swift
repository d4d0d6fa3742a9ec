import ChartSync
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

/// Planning over the example index: which version each constraint resolves to (what Helm 4
/// pulls for the same index), what the lock then records, and what is refused before any download.
@Suite struct PullerUnitResolutionTests {
    /// A chart as listed and the version Helm pulls for it.
    struct Resolution: Sendable, CustomTestStringConvertible {
        /// The chart as listed.
        let chart: ListedChart
        /// The version Helm pulls.
        let expected: String
        /// `name constraint -> version`.
        var testDescription: String { "\(chart.testDescription) -> \(expected)" }
    }

    /// hello-web has 1.0.0, 1.1.0 and 1.2.0-rc.1; hello-worker 0.4.0 and 0.5.0; hello-common
    /// 2.0.0 and 2.0.1. Expected versions checked against Helm 4.2.3 (helm-python-sdk) pulling
    /// from the same index; `devel` is Helm's `--devel` (no constraint: `>0.0.0-0`).
    static let resolutions: [Resolution] = [
        Resolution(chart: ListedChart(name: "hello-web", version: nil), expected: "1.1.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: "*"), expected: "1.1.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: "1.0.0"), expected: "1.0.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: "v1.0.0"), expected: "1.0.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: "~1.0"), expected: "1.0.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: "^1"), expected: "1.1.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: "1.1.x"), expected: "1.1.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: ">=1.0.0 <1.1.0"), expected: "1.0.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: ">=1.0.0, <1.2.0"), expected: "1.1.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: "<1.1.0"), expected: "1.0.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: "!=1.1.0"), expected: "1.0.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: "1.0.0 || 1.1.0"), expected: "1.1.0"),
        Resolution(chart: ListedChart(name: "hello-web", version: ">0.0.0-0"), expected: "1.2.0-rc.1"),
        Resolution(chart: ListedChart(name: "hello-web", version: "1.2.0-rc.1"), expected: "1.2.0-rc.1"),
        Resolution(chart: ListedChart(name: "hello-web", version: "~1.2.0-0"), expected: "1.2.0-rc.1"),
        Resolution(chart: ListedChart(name: "hello-web", version: nil, devel: true), expected: "1.2.0-rc.1"),
        Resolution(chart: ListedChart(name: "hello-worker", version: nil), expected: "0.5.0"),
        Resolution(chart: ListedChart(name: "hello-worker", version: "^0.4"), expected: "0.4.0"),
        Resolution(chart: ListedChart(name: "hello-worker", version: "0.4.x"), expected: "0.4.0"),
        Resolution(chart: ListedChart(name: "hello-common", version: "~2.0.0"), expected: "2.0.1"),
        Resolution(chart: ListedChart(name: "hello-common", version: "2.0.0"), expected: "2.0.0"),
    ]

    /// The chosen version is downloaded (only it, after the index) and locked with its version,
    /// digest, size, constraint, repository and URL; the file is the repository's, byte for byte.
    @Test(arguments: resolutions)
    func resolvesTheVersionHelmPullsAndLocksIt(_ c: Resolution) throws {
        let project = try PullerUnitProject([c.chart])
        let report = try project.pull()

        let file = "\(c.chart.name)-\(c.expected).tgz"
        let bytes = try ExampleRepository.bytes(file)
        #expect(project.recorder.urls == [ExampleRepository.url("index.yaml"), ExampleRepository.url(file)])
        let expected = Lockfile.Entry(
            name: c.chart.name, version: c.expected, constraint: c.chart.version, repository: ExampleRepository.url,
            url: ExampleRepository.url(file), sha256: try ExampleRepository.sha256(file), size: Int64(bytes.count))
        let lock = try project.lock()
        #expect(lock.entries == [expected])
        #expect(lock.chartList == ChartListDigest.of(try ChartListReader.read(path: project.layout.chartList)))
        #expect(report.added == [expected])
        #expect(report.updated.isEmpty && report.unchanged.isEmpty && report.removed.isEmpty && report.unlisted.isEmpty)
        #expect(report.lockWritten)
        #expect(report.downloadedBytes == Int64(bytes.count))
        #expect(try project.external() == [file])
        #expect(try project.state()["charts/external/" + file] == ExampleRepository.sha256(file).hex)
    }

    /// Several charts in one list: one index fetch, each chart resolved on its own, the lock
    /// sorted by name whatever the list's order.
    @Test func resolvesEveryChartOfTheListWithOneIndexFetch() throws {
        let project = try PullerUnitProject([
            ListedChart(name: "hello-worker", version: "~0.4"),
            ListedChart(name: "hello-web", version: "^1.0"),
            ListedChart(name: "hello-common", version: nil),
        ])
        let report = try project.pull()
        #expect(project.recorder.urls.filter { $0.hasSuffix("/index.yaml") } == [ExampleRepository.url("index.yaml")])
        #expect(Set(project.recorder.urls) == Set(["index.yaml", "hello-common-2.0.1.tgz", "hello-web-1.1.0.tgz", "hello-worker-0.4.0.tgz"]
            .map(ExampleRepository.url)))
        let lock = try project.lock()
        #expect(lock.entries.map { "\($0.name) \($0.version) \($0.constraint ?? "-")" }
                == ["hello-common 2.0.1 -", "hello-web 1.1.0 ^1.0", "hello-worker 0.4.0 ~0.4"])
        #expect(report.added.map(\.name).sorted() == ["hello-common", "hello-web", "hello-worker"])
    }

    /// A chart list the index cannot satisfy, and the message saying why.
    struct Refusal: Sendable, CustomTestStringConvertible {
        /// The chart as listed.
        let chart: ListedChart
        /// The whole error message.
        let message: String
        /// The failure's kind (the exit code).
        let kind: FailureKind
        /// `name constraint`.
        var testDescription: String { chart.testDescription }
    }

    /// Constraints nothing satisfies and a chart the index lacks.
    static let refusals: [Refusal] = [
        Refusal(chart: ListedChart(name: "hello-web", version: "^3"),
                message: "no version of chart \"hello-web\" in \(ExampleRepository.url) satisfies \"^3\" (newest: 1.2.0-rc.1)",
                kind: .input),
        Refusal(chart: ListedChart(name: "hello-web", version: ">1.1.0"),
                message: "no version of chart \"hello-web\" in \(ExampleRepository.url) satisfies \">1.1.0\" (newest: 1.2.0-rc.1)",
                kind: .input),
        Refusal(chart: ListedChart(name: "hello-worker", version: "0.6.0"),
                message: "no version of chart \"hello-worker\" in \(ExampleRepository.url) satisfies \"0.6.0\" (newest: 0.5.0)",
                kind: .input),
        Refusal(chart: ListedChart(name: "hello-nope", version: nil),
                message: "chart \"hello-nope\" not found in \(ExampleRepository.url)",
                kind: .input),
    ]

    /// Refused after reading the index: no tarball asked for (not even the other chart's), no
    /// lock, nothing vendored.
    @Test(arguments: refusals)
    func unsatisfiableChartIsRefusedBeforeAnyDownload(_ c: Refusal) throws {
        let project = try PullerUnitProject([ListedChart(name: "hello-common", version: "2.0.0"), c.chart])
        let error = try #require(try project.pullFailure())
        #expect(error.description == c.message)
        #expect(error.kind == c.kind)
        #expect(project.recorder.urls == [ExampleRepository.url("index.yaml")])
        #expect(!FileManager.default.fileExists(atPath: project.layout.lock))
        // A refused pull of a fresh project creates nothing, not even charts/external.
        #expect(!FileManager.default.fileExists(atPath: project.layout.charts))
    }

    /// An index entry without a digest cannot be proven: refused unless the chart allows it.
    @Test(arguments: [false, true])
    func missingDigestIsRefusedUnlessAllowed(_ allowed: Bool) throws {
        let project = try PullerUnitProject([ListedChart(name: "hello-web", version: "1.1.0", allowMissingDigest: allowed)])
        let real = try ExampleRepository.sha256("hello-web-1.1.0.tgz").hex
        project.repository.index = project.repository.index.replacingOccurrences(of: "    digest: \"\(real)\"\n", with: "")
        #expect(!project.repository.index.contains(real))

        if allowed {
            let report = try project.pull()
            #expect(report.added.map(\.sha256) == [try ExampleRepository.sha256("hello-web-1.1.0.tgz")])
            #expect(try project.lock().entry(named: "hello-web")?.sha256 == ExampleRepository.sha256("hello-web-1.1.0.tgz"))
        } else {
            let error = try #require(try project.pullFailure())
            guard case let .missingDigest(chart, version, found) = error else {
                Issue.record("expected missingDigest, got \(error)")
                return
            }
            #expect(chart == "hello-web" && version == "1.1.0" && found == nil)
            #expect(error.description.contains("allowMissingDigest"))
            #expect(project.recorder.urls == [ExampleRepository.url("index.yaml")])
            #expect(!FileManager.default.fileExists(atPath: project.layout.lock))
        }
    }

    /// Credentials go with the index and with tarballs on the repository's origin, never to a
    /// chart URL on another host; the lock records no credential.
    @Test func credentialsStayWithTheRepositoryOrigin() throws {
        let project = try PullerUnitProject(
            [ListedChart(name: "hello-web", version: "1.1.0"), ListedChart(name: "hello-worker", version: "0.5.0")],
            repositoryLines: "    usernameEnv: REPO_USER\n    passwordEnv: REPO_PASS\n")
        let mirror = "https://mirror.example.test/charts/hello-web-1.1.0.tgz"
        project.repository.index = project.repository.index.replacingOccurrences(of: "    - hello-web-1.1.0.tgz", with: "    - " + mirror)
        project.repository.files[mirror] = try ExampleRepository.bytes("hello-web-1.1.0.tgz")

        let list = try ChartListReader.read(path: project.layout.chartList)
        let fake = project.repository.client(recorder: project.recorder)
        _ = try Puller(layout: project.layout, makeClient: { _, _ in fake })
            .pull(list, options: PullOptions(environment: ["REPO_USER": "alice", "REPO_PASS": "s3cret"]))

        let sent = Dictionary(uniqueKeysWithValues: project.recorder.all.map { ($0.url, $0.credentials) })
        let alice = Credentials.basic(username: "alice", password: "s3cret")
        #expect(sent.count == 3)
        #expect(sent[ExampleRepository.url("index.yaml")] == .some(alice))
        #expect(sent[ExampleRepository.url("hello-worker-0.5.0.tgz")] == .some(alice))
        #expect(sent[mirror] == .some(nil))
        let lock = try project.lock()
        #expect(lock.entry(named: "hello-web")?.url == mirror)
        let text = try String(contentsOfFile: project.layout.lock, encoding: .utf8)
        #expect(!text.contains("alice") && !text.contains("s3cret"))
    }
}

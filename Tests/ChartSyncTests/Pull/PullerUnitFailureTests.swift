import ChartSync
import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing
import struct Crypto.SHA256

/// Failures after planning: wrong bytes, transport errors, Ctrl-C. Each names what failed and
/// leaves charts/ and versions.lock byte-identical, with no staging directory left behind.
@Suite struct PullerUnitFailureTests {
    /// hello-web as first pulled.
    static let web11 = ListedChart(name: "hello-web", version: "1.1.0")
    /// hello-web as listed next: another version, unpacked, so a download and an unpack are due.
    static let web10 = ListedChart(name: "hello-web", version: "1.0.0", unpack: true)
    /// A chart that stays as it is.
    static let worker = ListedChart(name: "hello-worker", version: "0.4.0")

    /// A project that pulled hello-web 1.1.0 and hello-worker 0.4.0, now listing hello-web
    /// 1.0.0 (unpacked): the next pull must download, so there is something to lose.
    static func projectAboutToUpdate() throws -> (PullerUnitProject, [String: String]) {
        let project = try PullerUnitProject([web11, worker])
        _ = try project.pull()
        try project.setCharts([web10, worker])
        project.recorder.reset()
        return (project, try project.state())
    }

    /// Bytes served for hello-web 1.0.0 that are not the ones the index promises.
    enum WrongBytes: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case anotherVersion, lastByteMissing, oneByteFlipped, extraByte, empty, indexPromisesOthers

        /// The case's name.
        var testDescription: String { rawValue }

        /// Changes what `repository` serves (or promises) for hello-web-1.0.0.tgz.
        func apply(to repository: inout ExampleRepository) throws {
            let url = ExampleRepository.url("hello-web-1.0.0.tgz")
            let real = try ExampleRepository.bytes("hello-web-1.0.0.tgz")
            switch self {
            case .anotherVersion: repository.files[url] = try ExampleRepository.bytes("hello-web-1.1.0.tgz")
            case .lastByteMissing: repository.files[url] = Array(real.dropLast())
            case .oneByteFlipped: repository.files[url] = real.enumerated().map { $0.offset == real.count / 2 ? ~$0.element : $0.element }
            case .extraByte: repository.files[url] = real + [0]
            case .empty: repository.files[url] = []
            case .indexPromisesOthers: try repository.setIndexDigest(of: "hello-web-1.0.0.tgz", to: String(repeating: "ab", count: 32))
            }
        }
    }

    /// The download is refused naming the chart, version, URL and both digests; nothing changes.
    @Test(arguments: WrongBytes.allCases)
    func digestMismatchChangesNothing(_ wrong: WrongBytes) throws {
        let (project, before) = try Self.projectAboutToUpdate()
        try wrong.apply(to: &project.repository)
        let served = project.repository.files[ExampleRepository.url("hello-web-1.0.0.tgz")]!
        let promised = wrong == .indexPromisesOthers ? Digest(String(repeating: "ab", count: 32))! : try ExampleRepository.sha256("hello-web-1.0.0.tgz")

        let error = try #require(try project.pullFailure())
        guard case let .digestMismatch(chart, version, url, expected, actual) = error else {
            Issue.record("expected digestMismatch, got \(error)")
            return
        }
        #expect(chart == "hello-web" && version == "1.0.0")
        #expect(url == ExampleRepository.url("hello-web-1.0.0.tgz"))
        #expect(expected == promised)
        #expect(actual == Digest(bytes: SHA256.hash(data: served)))
        #expect(expected != actual)
        #expect(error.kind == .verification)
        #expect(error.description.hasPrefix("digest mismatch for chart \"hello-web\" 1.0.0 from \(url)"))
        #expect(project.recorder.urls == ["index.yaml", "hello-web-1.0.0.tgz"].map(ExampleRepository.url))
        #expect(try project.state() == before)
    }

    /// The index now publishes other bytes for the locked version: refused before any download.
    @Test func republishedVersionIsRefused() throws {
        let project = try PullerUnitProject([Self.web11])
        _ = try project.pull()
        let before = try project.state()
        let locked = try ExampleRepository.sha256("hello-web-1.1.0.tgz")
        try project.repository.setIndexDigest(of: "hello-web-1.1.0.tgz", to: String(repeating: "0", count: 64))
        project.recorder.reset()

        let error = try #require(try project.pullFailure())
        guard case let .digestChanged(chart, version, lockedDigest, published) = error else {
            Issue.record("expected digestChanged, got \(error)")
            return
        }
        #expect(chart == "hello-web" && version == "1.1.0")
        #expect(lockedDigest == locked && published.hex == String(repeating: "0", count: 64))
        #expect(project.recorder.urls == [ExampleRepository.url("index.yaml")])
        #expect(try project.state() == before)
    }

    /// Proven bytes of the wrong chart: the tarball's Chart.yaml must name the chart and version.
    @Test func tarballOfAnotherChartIsRefused() throws {
        let (project, before) = try Self.projectAboutToUpdate()
        try project.repository.setIndexDigest(of: "hello-web-1.0.0.tgz", to: try ExampleRepository.sha256("hello-worker-0.5.0.tgz").hex)
        project.repository.files[ExampleRepository.url("hello-web-1.0.0.tgz")] = try ExampleRepository.bytes("hello-worker-0.5.0.tgz")

        let error = try #require(try project.pullFailure())
        #expect(error.description == "hello-web-1.0.0.tgz should hold chart \"hello-web\" 1.0.0 but its Chart.yaml says \"hello-worker\" 0.5.0")
        #expect(error.kind == .verification)
        #expect(try project.state() == before)
    }

    /// A fetch that fails, where, and the chart the error names (nil: the index).
    struct Failure: Sendable, CustomTestStringConvertible {
        /// The file in the repository whose fetch fails.
        let file: String
        /// What the fake throws.
        let error: TransportError
        /// The chart the pull's error names.
        let chart: String?
        /// `file: message`.
        var testDescription: String { "\(file): \(error)" }
    }

    /// HTTP statuses, network and TLS failures, an oversized body; on a tarball and on the index.
    static let failures: [Failure] = [
        Failure(file: "hello-web-1.0.0.tgz", error: .httpStatus(url: ExampleRepository.url("hello-web-1.0.0.tgz"), code: 404), chart: "hello-web"),
        Failure(file: "hello-web-1.0.0.tgz", error: .httpStatus(url: ExampleRepository.url("hello-web-1.0.0.tgz"), code: 503), chart: "hello-web"),
        Failure(file: "hello-web-1.0.0.tgz", error: .network(url: ExampleRepository.url("hello-web-1.0.0.tgz"), code: 56,
                                                              message: "Recv failure: Connection reset by peer"), chart: "hello-web"),
        Failure(file: "hello-web-1.0.0.tgz", error: .tls(url: ExampleRepository.url("hello-web-1.0.0.tgz"), code: 60,
                                                          message: "SSL certificate problem: unable to get local issuer certificate"), chart: "hello-web"),
        Failure(file: "hello-web-1.0.0.tgz", error: .sizeLimitExceeded(url: ExampleRepository.url("hello-web-1.0.0.tgz"), limit: 10), chart: "hello-web"),
        Failure(file: "index.yaml", error: .httpStatus(url: ExampleRepository.url("index.yaml"), code: 500), chart: nil),
        Failure(file: "index.yaml", error: .network(url: ExampleRepository.url("index.yaml"), code: 7,
                                                     message: "Failed to connect to charts.example.test port 443"), chart: nil),
    ]

    /// The fake's error comes back as the pull's, naming the URL (and the chart for a tarball);
    /// nothing changes.
    @Test(arguments: failures)
    func transportErrorIsReportedWithItsURL(_ failure: Failure) throws {
        let (project, before) = try Self.projectAboutToUpdate()
        project.repository.failures[ExampleRepository.url(failure.file)] = failure.error

        let error = try #require(try project.pullFailure())
        guard case let .transport(chart, underlying) = error else {
            Issue.record("expected transport, got \(error)")
            return
        }
        #expect(chart == failure.chart)
        #expect(underlying == failure.error)
        #expect(error.kind == .io)
        #expect(error.description.contains(ExampleRepository.url(failure.file)))
        #expect(failure.chart.map { error.description.hasPrefix("chart \"\($0)\": ") } ?? true)
        #expect(project.recorder.urls.last == ExampleRepository.url(failure.file))
        #expect(try project.state() == before)
    }

    /// Two charts failing: both are reported, and still nothing changes.
    @Test func everyFailingChartIsReported() throws {
        let (project, before) = try Self.projectAboutToUpdate()
        try project.setCharts([Self.web10, ListedChart(name: "hello-worker", version: "0.5.0")])
        for file in ["hello-web-1.0.0.tgz", "hello-worker-0.5.0.tgz"] {
            project.repository.failures[ExampleRepository.url(file)] = .httpStatus(url: ExampleRepository.url(file), code: 404)
        }

        let error = try #require(try project.pullFailure())
        guard case let .several(errors) = error else {
            Issue.record("expected several, got \(error)")
            return
        }
        #expect(errors.count == 2)
        #expect(error.description.contains("chart \"hello-web\": \(ExampleRepository.url("hello-web-1.0.0.tgz")) answered HTTP 404"))
        #expect(error.description.contains("chart \"hello-worker\": \(ExampleRepository.url("hello-worker-0.5.0.tgz")) answered HTTP 404"))
        #expect(try project.state() == before)
    }

    /// Ctrl-C while a chart downloads: the run stops as interrupted and nothing changes, even
    /// though the download itself completed.
    @Test func interruptedPullChangesNothing() throws {
        let (project, before) = try Self.projectAboutToUpdate()
        let cancellation = Cancellation()
        let served = project.repository
        let client = FakeHTTPClient(recorder: project.recorder) { request throws(TransportError) in
            if request.url.hasSuffix(".tgz") { cancellation.cancel() }
            return try served.respond(request)
        }

        let error = try #require(try project.pullFailure(cancellation: cancellation, client: client))
        guard case .interrupted = error else {
            Issue.record("expected interrupted, got \(error)")
            return
        }
        #expect(error.kind == .interrupted)
        #expect(project.recorder.urls == ["index.yaml", "hello-web-1.0.0.tgz"].map(ExampleRepository.url))
        #expect(try project.state() == before)
    }
}

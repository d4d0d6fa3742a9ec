import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Synchronization
import Testing

/// A body's progress as it streams to disk (what the live bar shows while an index downloads).
@Suite struct TransferProgressTests {
    @Test func reportsGrowingCountsEveryStep() throws {
        let dir = try TemporaryDirectory()
        let body = testBytes(count: 3 * 1024 * 1024 + 17)
        _ = try dir.write("www/index.yaml", body)
        let server = try StaticServer(root: dir.file("www"))
        defer { server.stop() }
        let seen = Mutex<[Int64]>([])
        let progress = TransferProgress { bytes in seen.withLock { $0.append(bytes) } }
        let result = try CurlHTTPClient(options: TransportOptions())
            .fetch(TransferRequest(url: server.url("index.yaml"), progress: progress), to: dir.file("out"))
        let counts = seen.withLock { $0 }
        #expect(result.bytes == Int64(body.count))
        // One report per 256 KiB or more: at least 11 for 3 MiB, never more than 13.
        #expect(counts.count >= 3 * 1024 * 1024 / Int(TransferProgress.step) - 1 && counts.count <= 13, "\(counts)")
        #expect(counts == counts.sorted() && Set(counts).count == counts.count)
        #expect(zip(counts, counts.dropFirst()).allSatisfy { $1 - $0 >= TransferProgress.step })
        #expect((counts.last ?? 0) <= result.bytes)
    }

    @Test func noProgressNoReports() throws {
        let a = TransferProgress { _ in }
        #expect(TransferRequest(url: "http://x/", progress: a) == TransferRequest(url: "http://x/", progress: a))
        #expect(TransferRequest(url: "http://x/", progress: a) != TransferRequest(url: "http://x/", progress: TransferProgress { _ in }))
    }
}

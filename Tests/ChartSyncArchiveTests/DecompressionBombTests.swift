import ChartSyncArchive
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

/// A small tarball that decompresses to far more than a chart may hold: every reader of chart
/// tarballs stops at the limit instead of decompressing it all (Chart.yaml sits after the bomb,
/// so reaching it means skipping through it), and a cancelled read stops at once.
@Suite struct DecompressionBombTests {
    /// `bomb.tgz`: a 300 MB file of zeros, then `bomb/Chart.yaml` (gzip level 1: about 1 MB).
    static func bomb(_ temp: TemporaryDirectory) throws -> String {
        let path = temp.file("bomb-1.0.0.tgz")
        try DecompressionBomb.write(to: path)
        return path
    }

    @Test func chartYAMLReadingStopsAtTheLimit() throws {
        let temp = try TemporaryDirectory()
        let path = try Self.bomb(temp)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(size < 4 << 20)
        do {
            _ = try ChartArchive(path: path, scanAll: false)
            Issue.record("a 300 MB chart was read")
        } catch {
            #expect(error.description.contains(path), "\(error)")
            #expect(error.description.contains("decompresses to more than"), "\(error)")
        }
        // The same tarball is fine under limits that admit it: the cap is what refused it.
        let roomy = ExtractionLimits(maxTotalBytes: 400_000_000, maxFileBytes: 400_000_000)
        #expect(try ChartArchive(path: path, scanAll: false, limits: roomy).directory == "bomb")
    }

    @Test func chartFilesAndExtractionStopAtTheLimit() throws {
        let temp = try TemporaryDirectory()
        let path = try Self.bomb(temp)
        #expect(throws: ArchiveError.self) { try ChartFiles.read(tarball: path) }
        #expect(throws: ArchiveError.self) {
            try ChartExtractor.extract(archive: path, into: temp.file("out"), topDirectory: "bomb")
        }
        #expect(!FileManager.default.fileExists(atPath: temp.file("out")))
    }

    @Test func cancelledReadingStops() throws {
        let temp = try TemporaryDirectory()
        let path = try Self.bomb(temp)
        let cancellation = Cancellation()
        cancellation.cancel()
        let roomy = ExtractionLimits(maxTotalBytes: 400_000_000, maxFileBytes: 400_000_000)
        do {
            _ = try ChartArchive(path: path, scanAll: false, limits: roomy, cancellation: cancellation)
            Issue.record("a cancelled read went on")
        } catch {
            #expect(error.description.contains("interrupted"), "\(error)")
        }
    }
}

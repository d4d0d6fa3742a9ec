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
        let script = """
            import gzip, io, sys, tarfile
            class Zeros(io.RawIOBase):
                def __init__(self, n): self.left = n
                def readable(self): return True
                def readinto(self, b):
                    n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
            with gzip.open(sys.argv[1], 'wb', compresslevel=1) as z:
                with tarfile.open(fileobj=z, mode='w|') as tar:
                    t = tarfile.TarInfo('bomb/zeros'); t.size = 300 * 1000 * 1000
                    tar.addfile(t, io.BufferedReader(Zeros(t.size)))
                    chart = b'apiVersion: v2\\nname: bomb\\nversion: 1.0.0\\n'
                    t = tarfile.TarInfo('bomb/Chart.yaml'); t.size = len(chart)
                    tar.addfile(t, io.BytesIO(chart))
            """
        try runCommand(["python3", "-c", script, path])
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

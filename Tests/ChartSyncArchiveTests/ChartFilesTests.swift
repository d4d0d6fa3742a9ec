import ChartSyncArchive
import ChartSyncTestSupport
import Foundation
import Testing

/// Reading a chart's files into memory follows the extraction rules (same refusals, same limits)
/// and reads chart archives inside chart archives from memory.
@Suite struct ChartFilesTests {
    init() { _ = utf8Locale }

    /// Hostile cases whose refusal depends on extraction being told the top directory up front;
    /// the in-memory reader takes the top directory from the first entry.
    static let topDependent: Set<String> = ["no top directory", "prefix trick top-evil"]

    @Test(arguments: hostileCases.filter { !topDependent.contains($0.name) })
    func hostileArchiveIsRefusedAsExtractionRefusesIt(_ hostile: HostileCase) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-chartfiles")
        try FileManager.default.createDirectory(atPath: temp.file("probe"), withIntermediateDirectories: true)
        let archive = try craft(temp, hostile.body, format: hostile.format)
        var caught: ArchiveError?
        do {
            let files = try ChartFiles.read(tarball: archive, limits: hostile.limits)
            Issue.record("read \(files.files.keys.sorted())")
        } catch {
            caught = error
        }
        guard let caught else { return }
        let parts = ErrorParts(caught)
        #expect(parts.kind == hostile.kind, "\(caught)")
        if let entry = hostile.entry { #expect(parts.entry == entry, "\(caught)") }
        if let reason = hostile.reason { #expect("\(caught)".contains(reason), "\(caught)") }
        #expect("\(caught)".hasPrefix(archive + ": "), "\(caught)")
        #expect(listing(temp.file("probe")) == [])
    }

    @Test func topDirectoryComesFromTheFirstEntry() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-chartfiles")
        let fileOnly = try craft(temp, #"add(f("Chart.yaml"))"#, name: "file")
        #expect(throws: ArchiveError.self) { try ChartFiles.read(tarball: fileOnly) }
        let noChart = try craft(temp, #"add(f("top/values.yaml"))"#, name: "nochart")
        #expect {
            try ChartFiles.read(tarball: noChart)
        } throws: { error in
            ErrorParts(error as! ArchiveError).kind == "noChartFile"
        }
    }

    @Test func keepsChartFilesAndTemplatesOnly() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-chartfiles")
        let archive = try craft(temp, #"""
            add(d("top/")); add(f("top/Chart.yaml", b"name: top")); add(f("top/values.yaml", b"a: 1"))
            add(f("top/README.md", b"readme")); add(f("top/templates/a.yaml", b"kind: A"))
            add(f("top/templates/sub/b.tpl", b"{{ define }}")); add(f("top/crds/c.yaml", b"crd"))
            add(f("top/charts/dir/Chart.yaml", b"name: dir")); add(f("top/charts/dir/templates/x.yaml", b"x"))
            add(f("top/charts/_ignored/Chart.yaml", b"name: no")); add(f("top/charts/.hidden.tgz", b"no"))
            """#)
        let files = try ChartFiles.read(tarball: archive)
        #expect(files.entryPrefix == "top/")
        #expect(files.files.keys.sorted() == ["Chart.yaml", "templates/a.yaml", "templates/sub/b.tpl", "values.yaml"])
        #expect(files.files["values.yaml"] == Array("a: 1".utf8))
        #expect(files.subcharts.map(\.entryPrefix) == ["top/charts/dir/"])
        #expect(files.subcharts[0].files.keys.sorted() == ["Chart.yaml", "templates/x.yaml"])
    }

    @Test func subchartDirectoryWithoutChartYAMLIsRefused() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-chartfiles")
        let archive = try craft(temp, #"add(f("top/Chart.yaml")); add(f("top/charts/dir/values.yaml"))"#)
        #expect {
            try ChartFiles.read(tarball: archive)
        } throws: { error in
            "\(error)".contains("\"top/charts/dir/\": is a subchart directory without a Chart.yaml")
        }
    }

    @Test func nestedArchiveCountsAgainstTheSameLimits() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-chartfiles")
        // The inner chart holds 3,000 bytes; with 4,000 bytes in total for everything, the outer
        // archive's 1,500-byte file and the inner archive's bytes together are over the limit.
        let inner = try craft(temp, #"add(f("inner/Chart.yaml", b"name: inner")); add(f("inner/values.yaml", b"v" * 3000))"#, name: "inner")
        let innerBytes = try Data(contentsOf: URL(fileURLWithPath: inner))
        let hex = innerBytes.map { String(format: "%02x", $0) }.joined()
        let outer = try craft(temp, #"add(f("top/Chart.yaml", b"c" * 1500)); add(f("top/charts/inner.tgz", bytes.fromhex("\#(hex)")))"#, name: "outer")
        let files = try ChartFiles.read(tarball: outer)
        #expect(files.subcharts.map(\.entryPrefix) == ["top/charts/inner.tgz!inner/"])
        #expect {
            try ChartFiles.read(tarball: outer, limits: ExtractionLimits(maxTotalBytes: 4000))
        } throws: { error in
            let parts = ErrorParts(error as! ArchiveError)
            return parts.kind == "archiveTooLarge" && parts.entry == "inner/values.yaml"
                && "\(error)".hasPrefix(outer + "!top/charts/inner.tgz: ")
        }
    }

    @Test(arguments: realCharts)
    func realChartReads(_ chart: RealChart) throws {
        let files = try ChartFiles.read(tarball: Fixtures.path(chart.file))
        #expect(files.files["Chart.yaml"] != nil)
        #expect(files.files.keys.contains { $0.hasPrefix("templates/") })
    }
}

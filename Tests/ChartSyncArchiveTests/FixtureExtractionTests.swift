import ChartSyncArchive
import ChartSyncTestSupport
import Foundation
import Testing

/// A real chart tarball from ../shared/fixtures and the chart name it holds.
struct RealChart: Sendable, CustomTestStringConvertible {
    let file: String
    let chart: String
    var testDescription: String { file }
}

/// All 23 chart tarballs of the shared fixtures (GNU and POSIX ustar headers, PAX headers,
/// `./`-rooted archives, explicit directory entries, old NUL typeflag files).
let realCharts: [RealChart] = [
    ("repo-argo-helm/argo-0.1.0.tgz", "argo"),
    ("repo-argo-helm/argo-cd-0.1.0.tgz", "argo-cd"),
    ("repo-argo-helm/argo-ci-0.1.0.tgz", "argo-ci"),
    ("repo-argo-helm/argo-events-0.2.0.tgz", "argo-events"),
    ("repo-argo-helm/argo-lite-0.1.0.tgz", "argo-lite"),
    ("repo-argo-helm/argo-rollouts-0.1.0.tgz", "argo-rollouts"),
    ("repo-argo-helm/argo-workflows-0.1.0.tgz", "argo-workflows"),
    ("repo-argo-helm/argocd-applicationset-0.1.0.tgz", "argocd-applicationset"),
    ("repo-argo-helm/argocd-notifications-1.0.0.tgz", "argocd-notifications"),
    ("repo-nvidia-k8s-device-plugin/stable/nvidia-device-plugin-0.6.0.tgz", "nvidia-device-plugin"),
    ("repo-nvidia-k8s-device-plugin/stable/nvidia-device-plugin-0.7.0-rc.1.tgz", "nvidia-device-plugin"),
    ("repo-nvidia-k8s-device-plugin/stable/nvidia-device-plugin-0.7.0.tgz", "nvidia-device-plugin"),
    ("repo-nvidia-k8s-device-plugin/stable/nvidia-device-plugin-0.12.0-rc.1.tgz", "nvidia-device-plugin"),
    ("repo-nvidia-k8s-device-plugin/stable/nvidia-device-plugin-0.14.0.tgz", "nvidia-device-plugin"),
    ("repo-nvidia-k8s-device-plugin/stable/nvidia-device-plugin-0.20.0.tgz", "nvidia-device-plugin"),
    ("repo-nvidia-k8s-device-plugin/stable/gpu-feature-discovery-0.15.0-rc.1.tgz", "gpu-feature-discovery"),
    ("repo-nvidia-k8s-device-plugin/stable/gpu-feature-discovery-0.15.0.tgz", "gpu-feature-discovery"),
    ("repo-nvidia-k8s-device-plugin/stable/gpu-feature-discovery-0.20.0.tgz", "gpu-feature-discovery"),
    ("repo-grafana-helm-charts/packages/fluent-bit-2.0.1.tgz", "fluent-bit"),
    ("repo-grafana-helm-charts/packages/grafana-0.6.1.tgz", "grafana"),
    ("repo-grafana-helm-charts/packages/grafana-0.6.tgz", "grafana"),
    ("repo-grafana-helm-charts/packages/loki-2.1.0.tgz", "loki"),
    ("repo-grafana-helm-charts/packages/promtail-2.0.1.tgz", "promtail"),
].map { RealChart(file: $0.0, chart: $0.1) }

@Suite struct FixtureExtractionTests {
    init() { _ = utf8Locale }

    @Test func everyFixtureTarballIsListed() throws {
        let found = try runCommand(["sh", "-c", "cd \"$1\" && find repo-* -name '*.tgz' | sort", "sh", Fixtures.root])
            .split(separator: "\n").map(String.init)
        #expect(found == realCharts.map(\.file).sorted())
    }

    @Test(arguments: realCharts)
    func realChartExtractsCleanly(_ chart: RealChart) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-extract")
        let archive = Fixtures.path(chart.file)
        let destination = temp.file("\(chart.chart)-v1")
        let result = try ChartExtractor.extract(archive: archive, into: destination, topDirectory: chart.chart)

        // The file list is what GNU tar lists: regular files only, top directory stripped.
        let members = try tarMembers(archive)
        let listed = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(!listed.isEmpty)
        #expect(result.files == listed)
        #expect(result.directory == destination)
        #expect(tree(destination).filter { !$0.hasSuffix("/") } == listed.sorted())

        // The digest is the coreutils pipeline's, and TreeDigest's, over the extracted tree.
        let coreutils = try coreutilsTreeDigest(destination)
        #expect(result.treeDigest.hex == coreutils)
        let recomputed = try TreeDigest.compute(directory: destination)
        #expect(recomputed.digest == result.treeDigest)
        #expect(recomputed.files == result.files)

        // The same bytes as GNU tar extracts.
        let reference = temp.file("gnu-tar")
        try FileManager.default.createDirectory(atPath: reference, withIntermediateDirectories: false)
        try runCommand(["tar", "-xzf", archive, "-C", reference, "--strip-components=1", "--warning=no-unknown-keyword"])
        #expect(try coreutilsTreeDigest(reference) == coreutils)

        // Byte count, modes, and nothing else beside the destination.
        let sizes = try result.files.map { try FileManager.default.attributesOfItem(atPath: destination + "/" + $0)[.size] as? Int ?? -1 }
        #expect(result.bytes == Int64(sizes.reduce(0, +)))
        #expect(mode(destination) == 0o755)
        for entry in tree(destination) {
            let expected = entry.hasSuffix("/") || members[entry] == true ? 0o755 : 0o644
            #expect(mode(destination + "/" + entry) == expected, "\(entry)")
        }
        #expect(listing(temp.path) == ["\(chart.chart)-v1", "gnu-tar"].sorted())

        // A second extraction gives the same digest.
        let again = try ChartExtractor.extract(archive: archive, into: temp.file("again"), topDirectory: chart.chart)
        #expect(again.treeDigest == result.treeDigest)
        #expect(again.files == result.files)
        #expect(listing(temp.path) == ["\(chart.chart)-v1", "again", "gnu-tar"].sorted())
    }

    /// The regular files GNU tar lists in `archive` (top directory stripped) and whether any execute bit is set.
    func tarMembers(_ archive: String) throws -> [String: Bool] {
        let lines = try runCommand(["sh", "-c", "tar -tvzf \"$1\" --warning=no-unknown-keyword", "sh", archive])
            .split(separator: "\n")
        var members: [String: Bool] = [:]
        for line in lines where line.hasPrefix("-") {
            guard let time = line.range(of: #" [0-9]{2}:[0-9]{2} "#, options: .regularExpression) else { continue }
            var parts = line[time.upperBound...].split(separator: "/", omittingEmptySubsequences: false)
            parts.removeFirst()
            members[parts.joined(separator: "/")] = line.prefix(10).contains("x")
        }
        return members
    }

    @Test func executableBitGivesMode0755() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-extract")
        let archive = try craft(temp, """
            add(f("top/run.sh", b"#!/bin/sh\\n", mode=0o700))
            add(f("top/data", b"x", mode=0o600))
            add(d("top/empty", mode=0o700))
            """)
        let destination = temp.file("out")
        let result = try ChartExtractor.extract(archive: archive, into: destination, topDirectory: "top")
        #expect(result.files == ["data", "run.sh"])
        #expect(mode(destination + "/run.sh") == 0o755)
        #expect(mode(destination + "/data") == 0o644)
        #expect(mode(destination + "/empty") == 0o755)
        #expect(tree(destination) == ["data", "empty/", "run.sh"])
        #expect(try coreutilsTreeDigest(destination) == result.treeDigest.hex)
    }

    @Test(arguments: ["PAX_FORMAT", "GNU_FORMAT", "USTAR_FORMAT"])
    func longAndNonASCIINamesExtract(_ format: String) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-extract")
        // Over 100 bytes: ustar splits it into prefix and name fields.
        let split = "top/" + String(repeating: "d", count: 120) + "/" + String(repeating: "s", count: 90) + ".yaml"
        // A 140-byte component: only GNU long names and PAX paths hold it.
        let long = "top/" + String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 140) + ".yaml"
        let names = [split, "top/caf\u{e9} \u{2603}.yaml", "top/templates/a.yaml"] + (format == "USTAR_FORMAT" ? [] : [long])
        let archive = try craft(temp, names.map { "add(f(\"\($0)\", b\"\($0.count)\"))" }.joined(separator: "\n"), format: format)
        let destination = temp.file("out")
        let result = try ChartExtractor.extract(archive: archive, into: destination, topDirectory: "top")
        #expect(result.files == names.map { String($0.dropFirst(4)) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(try coreutilsTreeDigest(destination) == result.treeDigest.hex)
        #expect(try String(contentsOfFile: destination + "/caf\u{e9} \u{2603}.yaml", encoding: .utf8) == "\("top/café ☃.yaml".count)")
    }

    @Test func filesAreSortedByBytesNotByUnicodeRules() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-extract")
        let archive = try craft(temp, """
            for name in ["top/b", "top/B", "top/a-b", "top/a.b", "top/a/b", "top/\\u00e9", "top/e", "top/_x", "top/Z"]:
                add(f(name, name.encode()))
            """)
        let destination = temp.file("out")
        let result = try ChartExtractor.extract(archive: archive, into: destination, topDirectory: "top")
        #expect(result.files == ["B", "Z", "_x", "a-b", "a.b", "a/b", "b", "e", "é"])
        #expect(try coreutilsTreeDigest(destination) == result.treeDigest.hex)
    }

    @Test func destinationThatExistsIsRefusedAndLeftUntouched() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-extract")
        let archive = Fixtures.path("repo-argo-helm/argo-rollouts-0.1.0.tgz")
        try temp.write("existing/keep.txt", Array("keep".utf8))
        let destination = temp.file("existing")
        #expect {
            _ = try ChartExtractor.extract(archive: archive, into: destination, topDirectory: "argo-rollouts")
        } throws: { error in
            guard let error = error as? ArchiveError, case .destinationExists(let path) = error else { return false }
            return path == destination && "\(error)".contains("already exists")
        }
        #expect(tree(destination) == ["keep.txt"])
        #expect(try String(contentsOfFile: destination + "/keep.txt", encoding: .utf8) == "keep")
        #expect(listing(temp.path) == ["existing"])

        // An empty directory and a dangling symlink count as existing too.
        try FileManager.default.createDirectory(atPath: temp.file("empty"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: temp.file("dangling"), withDestinationPath: temp.file("nowhere"))
        for name in ["empty", "dangling"] {
            #expect(throws: ArchiveError.self) {
                _ = try ChartExtractor.extract(archive: archive, into: temp.file(name), topDirectory: "argo-rollouts")
            }
        }
        #expect(!exists(temp.file("nowhere")))
        #expect(listing(temp.path) == ["dangling", "empty", "existing"])
    }

    @Test func wrongTopDirectoryIsRefused() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-extract")
        let destination = temp.file("out")
        #expect {
            _ = try ChartExtractor.extract(
                archive: Fixtures.path("repo-argo-helm/argo-rollouts-0.1.0.tgz"), into: destination, topDirectory: "argo")
        } throws: { error in
            guard let error = error as? ArchiveError else { return false }
            return ErrorParts(error) == ErrorParts(kind: "unsafeEntry", entry: "argo-rollouts/Chart.yaml",
                                                   reason: "is outside the top directory \"argo/\"")
        }
        #expect(listing(temp.path) == [])
    }

    @Test(arguments: ["", ".", "..", "a/b", "a\\b", "a\u{1}"])
    func invalidTopDirectoryNameIsRefused(_ top: String) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-extract")
        #expect(throws: ArchiveError.self) {
            _ = try ChartExtractor.extract(
                archive: Fixtures.path("repo-argo-helm/argo-rollouts-0.1.0.tgz"), into: temp.file("out"), topDirectory: top)
        }
        #expect(listing(temp.path) == [])
    }

    @Test func missingArchiveLeavesNoDestination() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-extract")
        #expect {
            _ = try ChartExtractor.extract(archive: temp.file("missing.tgz"), into: temp.file("out"), topDirectory: "x")
        } throws: { error in
            guard let error = error as? ArchiveError, case .unreadable(let path, _) = error else { return false }
            return path == temp.file("missing.tgz")
        }
        #expect(listing(temp.path) == [])
    }

    @Test func destinationWhoseParentIsMissingIsRefused() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-extract")
        #expect {
            _ = try ChartExtractor.extract(
                archive: Fixtures.path("repo-argo-helm/argo-rollouts-0.1.0.tgz"), into: temp.file("no/such/out"),
                topDirectory: "argo-rollouts")
        } throws: { error in
            guard let error = error as? ArchiveError, case .cannotCreate = error else { return false }
            return true
        }
        #expect(listing(temp.path) == [])
    }
}

import ChartSyncCore
import ChartSyncIndex
import ChartSyncTestSupport
import ChartSyncBasics
@testable import ChartSync
import Foundation
import Testing

/// Copies `files` from a fixture folder into a fresh directory.
private func stage(_ folder: String, _ files: [String]) throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    for file in files {
        try FileManager.default.copyItem(atPath: Fixtures.path(folder + "/" + file), toPath: dir.path + "/" + file)
    }
    return dir
}

private func tarballs(in folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: Fixtures.path(folder)).filter { $0.hasSuffix(".tgz") }.sorted()
}

@Suite struct RepositoryIndexerTests {
    /// Every digest chartsync writes equals the digest the upstream index publishes.
    @Test(arguments: [("repo-argo-helm", ""), ("repo-nvidia-k8s-device-plugin", "stable")])
    func digestsMatchUpstreamIndex(_ repo: String, _ sub: String) throws {
        let folder = sub.isEmpty ? repo : repo + "/" + sub
        let files = try tarballs(in: folder)
        let dir = try stage(folder, files)
        let entries = try RepositoryIndexer().index(directory: dir.path)
        #expect(entries.count == files.count)

        let ours = try IndexReader().read(contentsOf: dir.path + "/index.yaml")
        let names = Set(entries.map(\.metadata.name))
        let upstream = try IndexReader().read(contentsOf: Fixtures.path(repo + "/index.yaml"), charts: names)
        var checked = 0
        for (name, versions) in ours.entries {
            for v in versions {
                let theirs = try #require(upstream.versions(of: name).first { $0.version == v.version })
                #expect(v.digest == theirs.digest, "\(name) \(v.version)")
                #expect(v.urls == ["\(name)-\(v.version).tgz"])
                #expect(v.appVersion == theirs.appVersion)
                checked += 1
            }
        }
        #expect(checked == files.count)
    }

    @Test func chartWithoutAPIVersionAndShortVersion() throws {
        let dir = try stage("repo-grafana-helm-charts/packages", ["grafana-0.6.tgz"])
        try RepositoryIndexer().index(directory: dir.path)
        let index = try IndexReader().read(contentsOf: dir.path + "/index.yaml")
        let v = try #require(index.versions(of: "grafana").first)
        #expect(v.version == "0.6")
        #expect(v.apiVersion == "v1")
    }

    @Test func outputIsReproducible() throws {
        let files = try tarballs(in: "repo-argo-helm")
        let dir = try stage("repo-argo-helm", files)
        try RepositoryIndexer().index(directory: dir.path)
        let first = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/index.yaml"))
        for (n, file) in files.enumerated() {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: Double(n * 1000))],
                                                  ofItemAtPath: dir.path + "/" + file)
        }
        try RepositoryIndexer().index(directory: dir.path)
        let second = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/index.yaml"))
        #expect(first == second)
        try RepositoryIndexer().index(directory: dir.path, sourceDateEpoch: 0)
        let third = try String(contentsOfFile: dir.path + "/index.yaml", encoding: .utf8)
        #expect(third.hasSuffix("generated: \"1970-01-01T00:00:00Z\"\n"))
    }

    /// The committed example repository is exactly what `chartsync index` writes for it.
    @Test func committedExampleRepositoryIsCurrent() throws {
        let repo = Fixtures.packageRoot + "/examples/repo"
        let files = try FileManager.default.contentsOfDirectory(atPath: repo).filter { $0.hasSuffix(".tgz") }
        let dir = try TemporaryDirectory()
        for file in files { try FileManager.default.copyItem(atPath: repo + "/" + file, toPath: dir.path + "/" + file) }
        try RepositoryIndexer().index(directory: dir.path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/index.yaml"))
            == Data(contentsOf: URL(fileURLWithPath: repo + "/index.yaml")))
        let index = try IndexReader().read(contentsOf: repo + "/index.yaml")
        #expect(index.versions(of: "hello-web").map(\.version) == ["1.2.0-rc.1", "1.1.0", "1.0.0"])
        #expect(index.versions(of: "hello-worker").map(\.version) == ["0.5.0", "0.4.0"])
        #expect(index.versions(of: "hello-common").map(\.version) == ["2.0.1", "2.0.0"])
    }

    @Test func brokenTarballsAreNamed() throws {
        let dir = try TemporaryDirectory()
        try Data("not a tarball".utf8).write(to: URL(fileURLWithPath: dir.path + "/junk-1.0.0.tgz"))
        #expect {
            try RepositoryIndexer().index(directory: dir.path)
        } throws: { error in
            String(describing: error).contains("junk-1.0.0.tgz")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/index.yaml"))
    }

    @Test func tarballWithoutChartFileIsNamed() throws {
        let dir = try TemporaryDirectory()
        try runCommand(["sh", "-c", "mkdir -p \"$0/x\" && echo hi > \"$0/x/README\" && tar -czf \"$0/x-1.0.0.tgz\" -C \"$0\" x && rm -r \"$0/x\"", dir.path])
        #expect {
            try RepositoryIndexer().index(directory: dir.path)
        } throws: { error in
            String(describing: error).contains("x-1.0.0.tgz") && String(describing: error).contains("no Chart.yaml")
        }
    }

    @Test func symlinkedIndexIsNotWrittenThrough() throws {
        let dir = try stage("repo-argo-helm", ["argo-0.1.0.tgz"])
        let outside = try TemporaryDirectory()
        let target = outside.path + "/victim"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/index.yaml", withDestinationPath: target)
        #expect(throws: FileSystemError.self) { try RepositoryIndexer().index(directory: dir.path) }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["argo-0.1.0.tgz", "index.yaml"])
    }
}

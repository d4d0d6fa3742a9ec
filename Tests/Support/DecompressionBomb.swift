import Foundation

/// Hostile chart tarballs for the decompression limits.
public enum DecompressionBomb {
    /// Writes `path`: a gzip'd tar (level 1, under 1 MB) whose first entry is `zeros` bytes of
    /// zeros (`bomb/zeros`) and whose second is `bomb/Chart.yaml` (name bomb, version 1.0.0), so
    /// a reader reaches Chart.yaml only by inflating the zeros.
    public static func write(to path: String, zeros: Int = 300 * 1000 * 1000) throws {
        let script = """
            import gzip, io, sys, tarfile
            class Zeros(io.RawIOBase):
                def __init__(self, n): self.left = n
                def readable(self): return True
                def readinto(self, b):
                    n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
            with gzip.open(sys.argv[1], 'wb', compresslevel=1) as z:
                with tarfile.open(fileobj=z, mode='w|') as tar:
                    t = tarfile.TarInfo('bomb/zeros'); t.size = int(sys.argv[2])
                    tar.addfile(t, io.BufferedReader(Zeros(t.size)))
                    chart = b'apiVersion: v2\\nname: bomb\\nversion: 1.0.0\\n'
                    t = tarfile.TarInfo('bomb/Chart.yaml'); t.size = len(chart)
                    tar.addfile(t, io.BytesIO(chart))
            """
        _ = try runCommand(["python3", "-c", script, path, String(zeros)])
    }
}

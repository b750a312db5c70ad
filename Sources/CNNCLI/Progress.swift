// A progress bar for long work (calibration, evaluation), drawn on stderr
// only when stdout and stderr are terminals, so pipes and logs stay clean.
import Foundation

/// Not thread-safe by itself: callers on several threads serialize updates
/// (the calibrator calls its progress closure under a lock).
final class ProgressBar: @unchecked Sendable {
  let title: String
  let total: Int
  let enabled: Bool
  private var lastDrawn = -1
  private let start = Date()

  init(_ title: String, total: Int, enabled: Bool = true) {
    self.title = title
    self.total = max(total, 1)
    self.enabled = enabled && isatty(STDOUT_FILENO) != 0 && isatty(STDERR_FILENO) != 0
  }

  func update(_ done: Int) {
    guard enabled else { return }
    let permille = done * 1000 / total
    guard permille != lastDrawn else { return }
    lastDrawn = permille
    let width = 30
    let filled = done * width / total
    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    let elapsed = Date().timeIntervalSince(start)
    let eta = done > 0 ? elapsed * Double(total - done) / Double(done) : 0
    let line = String(format: "\r%@ %@ %3d%% %d/%d  %.0fs left ", title, bar, permille / 10, done, total, eta)
    FileHandle.standardError.write(line.data(using: .utf8)!)
  }

  func finish() {
    guard enabled, lastDrawn >= 0 else { return }
    FileHandle.standardError.write("\r\u{1B}[2K".data(using: .utf8)!)
  }
}

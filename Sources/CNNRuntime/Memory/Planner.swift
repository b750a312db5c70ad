// Arena planning: activation tensors whose lifetimes do not overlap share
// bytes of one pool.
//
// Lifetimes are op-index intervals [first write, last read] (model inputs
// from 0, model outputs to the end). Tensors are placed largest first, each
// at the lowest 64-byte-aligned offset where it overlaps no already-placed
// tensor that is alive at the same time (the greedy-by-size strategy also
// used by TFLite Micro). Cost is O(T²) at load; nothing happens at run time.
//
// In place: an op may put an input inside its output's bytes
// (`OpPrepareContext.placeInputInOutput`: a Reshape's input, or each input
// of a Concatenation with nothing but 1s before its axis, whose inputs are
// then whole runs of the output). Such a member is not placed on its own:
// its holder's lifetime is stretched over the member's, and the member sits
// at the holder's offset plus its own (byte-aligned only: no kernel assumes
// more of an activation's address).

/// Fills `arenaOffset` of every live activation tensor and the state's pool
/// and context layout. `order` is scratch for `tensorCount` Int32 values.
func planArena(_ statePtr: UnsafeMutablePointer<ModelState>, order: UnsafeMutablePointer<Int32>) {
  let tensors = statePtr.pointee.tensors
  let count = statePtr.pointee.tensorCount
  // In-place tensors: resolve each to its outermost holder (a chain such as
  // Reshape into Concatenation) and stretch that holder's lifetime over its
  // members'; members are not placed on their own.
  var t = 0
  while t < count {
    if tensors[t].aliasRoot >= 0 && tensors[t].firstUse >= 0 {
      var root = tensors[t].aliasRoot
      var offset = tensors[t].aliasOffset
      var steps = 0
      // A holder is written by a later op than its member, so chains end;
      // `steps` only guards the walk.
      while tensors[root].aliasRoot >= 0 && steps < count {
        offset += tensors[root].aliasOffset
        root = tensors[root].aliasRoot
        steps += 1
      }
      tensors[t].aliasRoot = root
      tensors[t].aliasOffset = offset
      tensors[root].firstUse = min(tensors[root].firstUse, tensors[t].firstUse)
      tensors[root].lastUse = max(tensors[root].lastUse, tensors[t].lastUse)
    }
    t += 1
  }
  var live = 0
  var unplanned = 0
  t = 0
  while t < count {
    if tensors[t].isActivation && tensors[t].firstUse >= 0 {
      unplanned += alignUp(tensors[t].byteSize, tensorAlignment)
      if tensors[t].aliasRoot < 0 {
        order[live] = Int32(t)
        live += 1
      }
    }
    t += 1
  }
  // Insertion sort: larger first, then earlier first use, then index (deterministic).
  var i = 1
  while i < live {
    let key = order[i]
    var j = i - 1
    while j >= 0 && placedBefore(tensors[Int(key)], Int(key), tensors[Int(order[j])], Int(order[j])) {
      order[j + 1] = order[j]
      j -= 1
    }
    order[j + 1] = key
    i += 1
  }
  var poolBytes = 0
  i = 0
  while i < live {
    let me = Int(order[i])
    let size = alignUp(tensors[me].byteSize, tensorAlignment)
    var offset = 0
    // Raise `offset` past every conflicting placed tensor until none overlaps.
    var moved = true
    while moved {
      moved = false
      var j = 0
      while j < i {
        let other = Int(order[j])
        if lifetimesOverlap(tensors[me], tensors[other]) {
          let oStart = tensors[other].arenaOffset
          let oEnd = oStart + alignUp(tensors[other].byteSize, tensorAlignment)
          if offset < oEnd && oStart < offset + size {
            offset = oEnd
            moved = true
          }
        }
        j += 1
      }
    }
    tensors[me].arenaOffset = offset
    poolBytes = max(poolBytes, offset + size)
    i += 1
  }
  t = 0
  while t < count {
    if tensors[t].aliasRoot >= 0 && tensors[t].firstUse >= 0 {
      tensors[t].arenaOffset = tensors[tensors[t].aliasRoot].arenaOffset + tensors[t].aliasOffset
    }
    t += 1
  }
  statePtr.pointee.activationBytes = poolBytes
  statePtr.pointee.unplannedActivationBytes = unplanned
  statePtr.pointee.poolOffset = alignUp(contextHeaderBytes, blockAlignment)
  statePtr.pointee.profileOffset = statePtr.pointee.poolOffset + alignUp(poolBytes, blockAlignment)
  statePtr.pointee.contextBytes = statePtr.pointee.profileOffset + alignUp(statePtr.pointee.opCount * 8, blockAlignment)
}

@inline(__always)
func lifetimesOverlap(_ a: TensorInfo, _ b: TensorInfo) -> Bool {
  a.firstUse <= b.lastUse && b.firstUse <= a.lastUse
}

@inline(__always)
func placedBefore(_ a: TensorInfo, _ ai: Int, _ b: TensorInfo, _ bi: Int) -> Bool {
  if a.byteSize != b.byteSize { return a.byteSize > b.byteSize }
  if a.firstUse != b.firstUse { return a.firstUse < b.firstUse }
  return ai < bi
}

/// Preprocessing tables: 256 int8 entries for up to four channels.
/// Bytes of the input pixel tables in the model block (4 channels × 256).
let pixelTableBytes = 4 * 256

#!/usr/bin/env python3
# An independent check of a Perfetto trace written by `gort-trace perfetto`: parse it with
# Perfetto's own generated protobuf classes (pip install perfetto; no trace_processor binary
# needed), resolve the interned names, check that packets are in time order, that every event's
# track is described, and that begins and ends nest on each track. Prints the counts to compare
# with the JSON of the same raw trace.
# Usage: scripts/check_pftrace.py trace.pftrace
import sys, collections
from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb
t = pb.Trace()
t.ParseFromString(open(sys.argv[1], 'rb').read())
tracks, names, cats, ann = {}, {}, {}, {}
stacks = collections.defaultdict(list)
slices = collections.Counter(); instants = 0; flows_out = set(); flows_in = set(); last = 0
TE = pb.TrackEvent
for p in t.packet:
    if p.HasField('track_descriptor'):
        tracks[p.track_descriptor.uuid] = p.track_descriptor.name; continue
    for n in p.interned_data.event_names: names[n.iid] = n.name
    for n in p.interned_data.event_categories: cats[n.iid] = n.name
    for n in p.interned_data.debug_annotation_names: ann[n.iid] = n.name
    e = p.track_event
    assert p.timestamp >= last; last = p.timestamp
    assert e.track_uuid in tracks
    flows_out.update(e.flow_ids); flows_in.update(e.terminating_flow_ids)
    for d in e.debug_annotations: assert d.name_iid in ann
    if e.type == TE.TYPE_SLICE_BEGIN:
        stacks[e.track_uuid].append(names[e.name_iid])
    elif e.type == TE.TYPE_SLICE_END:
        n = stacks[e.track_uuid].pop(); slices[(tracks[e.track_uuid], n)] += 1
    elif e.type == TE.TYPE_INSTANT:
        assert e.name_iid in names; instants += 1
assert all(not s for s in stacks.values())
print("packets", len(t.packet), "tracks", len(tracks), "slices", sum(slices.values()),
      "instants", instants, "flows", len(flows_out), "ended", len(flows_in & flows_out))
print("tracks:", sorted(tracks.values()))

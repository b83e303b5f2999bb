"""Run under ParaView's own Python (``pvpython pv_probe.py FILE...``): print what ParaView reads.

For each ``.bp`` (ADIOS2 VTX) or ``.xdmf`` file prints, as one JSON object on stdout: the point and cell
array names, the time steps, and at the last time step every point array with its points' coordinates
(``fields``: name -> {points, values}) and every cell array (``cell_fields``).
This file imports only ParaView and the standard library; femiec calls it through
:func:`femiec.io.paraview.probe`.
"""
import json
import sys


def _blocks(data):
    """The leaf datasets of a (possibly composite) VTK data object."""
    if not data.IsA("vtkCompositeDataSet"):
        yield data
        return
    it = data.NewIterator()
    it.InitTraversal()
    while not it.IsDoneWithTraversal():
        yield it.GetCurrentDataObject()
        it.GoToNextItem()


def _probe(path):
    from paraview import servermanager
    from paraview import simple
    from vtkmodules.numpy_interface import dataset_adapter as dsa

    if path.endswith(".bp"):
        reader = simple.ADIOS2VTXReader(FileName=path)
    else:
        reader = simple.Xdmf3ReaderS(FileName=[path])
    times = list(reader.TimestepValues) if reader.TimestepValues else [0.0]
    reader.UpdatePipeline(times[-1])
    fields, cell_fields = {}, {}
    for block in _blocks(servermanager.Fetch(reader)):
        data = dsa.WrapDataObject(block)
        for name in data.PointData.keys():
            if name != "vtkOriginalPointIds" and name not in fields:
                fields[name] = {"points": data.Points.tolist(), "values": data.PointData[name].tolist()}
        for name in data.CellData.keys():
            if name not in cell_fields:
                cell_fields[name] = data.CellData[name].tolist()
    return {
        "point_arrays": list(reader.PointData.keys()),
        "cell_arrays": list(reader.CellData.keys()),
        "times": [float(t) for t in times],
        "fields": fields,
        "cell_fields": cell_fields,
    }


if __name__ == "__main__":
    print(json.dumps({path: _probe(path) for path in sys.argv[1:]}))

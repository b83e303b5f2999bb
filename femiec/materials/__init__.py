"""Material properties: symmetry-class tensors, crystal orientations, temperature laws, transport
relations (Nernst-Einstein, ambipolar, transference) and a library of cited literature values."""
from femiec.materials.orientation import rotate_tensor, rotation_from_euler, rotation_from_quaternion
from femiec.materials.tensors import check_tensor, grain_tensor_field, tensor_coefficient, tensor_from_spec

__all__ = ["check_tensor", "grain_tensor_field", "rotate_tensor", "rotation_from_euler",
           "rotation_from_quaternion", "tensor_coefficient", "tensor_from_spec"]

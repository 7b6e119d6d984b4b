"""GPS tracks of field staff: bulk upload, latest positions, day replay with distance, stops and presence."""

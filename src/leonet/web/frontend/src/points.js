// Satellites as one GL point each: a vertex per satellite (deck's ScatterplotLayer draws an
// instanced quad, four vertices each, which software WebGL cannot draw 10,000 of at 20 frames/s).
// Positions given as NaN are not drawn: the page hides satellites behind the Earth that way
// (see hideBehindEarth in main.js), so this layer needs no depth buffer from the Earth beneath it.
import { Layer, project32 } from '@deck.gl/core';
import { Geometry, Model } from '@luma.gl/engine';

const vs = `\
#version 300 es
#define SHADER_NAME satellite-points-vs
in vec3 positions;
in vec3 positions64Low;
in vec4 colors;
out vec4 vColor;
void main(void) {
  geometry.worldPosition = positions;
  gl_Position = project_position_to_clipspace(positions, positions64Low, vec3(0.), geometry.position);
  if (!(positions.y >= -90.0 && positions.y <= 90.0)) {  // NaN or a latitude of 999: not drawn (SGP4 failed, or behind the Earth)
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);  // outside the clip volume
  }
  gl_PointSize = POINT_SIZE;
  vColor = colors;
}
`;

const fs = `\
#version 300 es
#define SHADER_NAME satellite-points-fs
precision highp float;
in vec4 vColor;
out vec4 fragColor;
void main(void) {
  fragColor = vColor;
}
`;

export default class SatellitePointsLayer extends Layer {
  getShaders() {
    return super.getShaders({ vs, fs, modules: [project32], defines: { POINT_SIZE: this.props.pointSize.toFixed(1) } });
  }

  initializeState() {
    this.getAttributeManager().add({
      positions: { size: 3, type: 'float64', fp64: this.use64bitPositions(), accessor: 'getPosition' },
      colors: { size: 4, type: 'unorm8', accessor: 'getColor', defaultValue: [255, 255, 255, 255] },
    });
  }

  updateState(params) {
    super.updateState(params);
    if (params.changeFlags.extensionsChanged || params.oldProps.pointSize !== params.props.pointSize) {
      this.state.model?.destroy();
      this.state.model = new Model(this.context.device, {
        ...this.getShaders(),
        id: this.props.id,
        bufferLayout: this.getAttributeManager().getBufferLayouts(),
        geometry: new Geometry({ topology: 'point-list', attributes: {} }),
        isInstanced: false,
      });
      this.getAttributeManager().invalidateAll();
    }
    if (params.changeFlags.dataChanged) this.state.model?.setVertexCount(this.getNumInstances());
  }

  draw() {
    this.state.model.setVertexCount(this.getNumInstances());
    this.state.model.draw(this.context.renderPass);
  }
}

SatellitePointsLayer.layerName = 'SatellitePointsLayer';
SatellitePointsLayer.defaultProps = { pointSize: 3, getPosition: { type: 'accessor', value: (d) => d }, getColor: { type: 'accessor', value: [255, 255, 255, 255] } };

// ECharts imported module by module: only the chart types and components the dashboard draws
// (the full build is ~3x the size). Canvas renderer: fastest for the wall screen's many points.
import * as echarts from 'echarts/core';
import { LineChart, ScatterChart, EffectScatterChart, CustomChart } from 'echarts/charts';
import {
  GeoComponent,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  DataZoomComponent,
  TitleComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  LineChart,
  ScatterChart,
  EffectScatterChart,
  CustomChart,
  GeoComponent,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  DataZoomComponent,
  TitleComponent,
  CanvasRenderer,
]);

export { echarts };
export type ECharts = echarts.ECharts;

/** Number of data items of a series that have a drawn graphic element (used by the e2e test). */
export function drawnItems(chart: ECharts, seriesId: string): number {
  // getModel/getViewOfSeriesModel are internal but stable across ECharts 5–6; the e2e test uses
  // this to check what is really on the canvas rather than what we meant to draw.
  const anyChart = chart as unknown as {
    getModel(): { getSeriesByIndex(i: number): unknown; getSeriesCount(): number };
  };
  const model = anyChart.getModel();
  for (let i = 0; i < model.getSeriesCount(); i++) {
    const s = model.getSeriesByIndex(i) as { id: string; getData(): { count(): number; getItemGraphicEl(i: number): { invisible?: boolean } | undefined } };
    if (s.id !== seriesId) continue;
    const data = s.getData();
    let n = 0;
    for (let k = 0; k < data.count(); k++) {
      const el = data.getItemGraphicEl(k);
      if (el && !el.invisible) n++;
    }
    return n;
  }
  return 0;
}

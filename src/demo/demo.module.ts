import { Module } from '@nestjs/common';
import { DemoSeedService } from 'src/demo/demo-seed.service';
import { ChannelsModule } from 'src/modules/channels/channels.module';
import { DepartmentsModule } from 'src/modules/departments/departments.module';
import { UsersModule } from 'src/modules/users/users.module';

/** The demo organisation for an empty embedded database; written through each module's service. */
@Module({
  imports: [ChannelsModule, DepartmentsModule, UsersModule],
  providers: [DemoSeedService],
  exports: [DemoSeedService],
})
export class DemoModule {}
